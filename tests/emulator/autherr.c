/*
 * Authentication failures as each protocol family reports them. AWS does
 * not agree with itself here: the same wrong secret is SignatureDoesNotMatch
 * for STS, AuthFailure for EC2, InvalidSignatureException for JSON services;
 * clients key their behaviour (refresh, retry, clock-skew correction) on
 * these exact codes, so they are rows, not guesses in code.
 */
#include <stdio.h>

#include "emulator.h"

struct autherr {
	int		 status;
	const char	*code;
	const char	*message;
};

#define MSG_INVALID	"The security token included in the request is invalid."
#define MSG_EXPIRED	"The security token included in the request is expired"
#define MSG_SIGNATURE	"The request signature we calculated does not match " \
	"the signature you provided. Check your AWS Secret Access Key and " \
	"signing method. Consult the service documentation for details."
#define MSG_EC2_AUTH	"AWS was not able to validate the provided access " \
	"credentials"
#define MSG_INCOMPLETE	"The request signature does not conform to AWS " \
	"standards."
#define MSG_SKEW	"Request has expired."

static const struct autherr autherr_table[][AUTHERR_BAD_TOKEN + 1] = {
	[EMU_PROTO_QUERY] = {
		[AUTHERR_MISSING] = { 403, "MissingAuthenticationToken",
		    "Request is missing Authentication Token" },
		[AUTHERR_INCOMPLETE] = { 400, "IncompleteSignature",
		    MSG_INCOMPLETE },
		[AUTHERR_UNKNOWN_KEY] = { 403, "InvalidClientTokenId",
		    MSG_INVALID },
		[AUTHERR_BAD_SIGNATURE] = { 403, "SignatureDoesNotMatch",
		    MSG_SIGNATURE },
		[AUTHERR_EXPIRED_TOKEN] = { 403, "ExpiredToken", MSG_EXPIRED },
		[AUTHERR_SKEW] = { 400, "RequestExpired", MSG_SKEW },
		[AUTHERR_REGION_DISABLED] = { 403, "InvalidClientTokenId",
		    MSG_INVALID },
		[AUTHERR_BAD_TOKEN] = { 403, "InvalidClientTokenId",
		    MSG_INVALID },
	},
	[EMU_PROTO_EC2] = {
		[AUTHERR_MISSING] = { 401, "MissingAuthenticationToken",
		    "The request must contain either a valid (registered) AWS "
		    "access key ID or X.509 certificate." },
		[AUTHERR_INCOMPLETE] = { 400, "IncompleteSignature",
		    MSG_INCOMPLETE },
		[AUTHERR_UNKNOWN_KEY] = { 401, "AuthFailure", MSG_EC2_AUTH },
		[AUTHERR_BAD_SIGNATURE] = { 401, "AuthFailure", MSG_EC2_AUTH },
		[AUTHERR_EXPIRED_TOKEN] = { 400, "RequestExpired", MSG_SKEW },
		[AUTHERR_SKEW] = { 400, "RequestExpired", MSG_SKEW },
		[AUTHERR_REGION_DISABLED] = { 401, "AuthFailure",
		    MSG_EC2_AUTH },
		[AUTHERR_BAD_TOKEN] = { 401, "AuthFailure", MSG_EC2_AUTH },
	},
	[EMU_PROTO_JSON] = {
		[AUTHERR_MISSING] = { 400, "MissingAuthenticationTokenException",
		    "Missing Authentication Token" },
		[AUTHERR_INCOMPLETE] = { 400, "IncompleteSignatureException",
		    MSG_INCOMPLETE },
		[AUTHERR_UNKNOWN_KEY] = { 400, "UnrecognizedClientException",
		    MSG_INVALID },
		[AUTHERR_BAD_SIGNATURE] = { 400, "InvalidSignatureException",
		    MSG_SIGNATURE },
		[AUTHERR_EXPIRED_TOKEN] = { 400, "ExpiredTokenException",
		    MSG_EXPIRED },
		[AUTHERR_SKEW] = { 400, "InvalidSignatureException",
		    "Signature expired" },
		[AUTHERR_REGION_DISABLED] = { 400,
		    "UnrecognizedClientException", MSG_INVALID },
		[AUTHERR_BAD_TOKEN] = { 400, "UnrecognizedClientException",
		    MSG_INVALID },
	},
	[EMU_PROTO_REST_JSON] = {
		[AUTHERR_MISSING] = { 403, "MissingAuthenticationTokenException",
		    "Missing Authentication Token" },
		[AUTHERR_INCOMPLETE] = { 403, "IncompleteSignatureException",
		    MSG_INCOMPLETE },
		[AUTHERR_UNKNOWN_KEY] = { 403, "UnrecognizedClientException",
		    MSG_INVALID },
		[AUTHERR_BAD_SIGNATURE] = { 403, "InvalidSignatureException",
		    MSG_SIGNATURE },
		[AUTHERR_EXPIRED_TOKEN] = { 403, "ExpiredTokenException",
		    MSG_EXPIRED },
		[AUTHERR_SKEW] = { 403, "InvalidSignatureException",
		    "Signature expired" },
		[AUTHERR_REGION_DISABLED] = { 403,
		    "UnrecognizedClientException", MSG_INVALID },
		[AUTHERR_BAD_TOKEN] = { 403, "UnrecognizedClientException",
		    MSG_INVALID },
	},
	[EMU_PROTO_REST_XML] = {
		[AUTHERR_MISSING] = { 403, "AccessDenied", "Access Denied" },
		[AUTHERR_INCOMPLETE] = { 400, "AuthorizationHeaderMalformed",
		    "The authorization header is malformed." },
		[AUTHERR_UNKNOWN_KEY] = { 403, "InvalidAccessKeyId",
		    "The AWS Access Key Id you provided does not exist in our "
		    "records." },
		[AUTHERR_BAD_SIGNATURE] = { 403, "SignatureDoesNotMatch",
		    "The request signature we calculated does not match the "
		    "signature you provided. Check your key and signing "
		    "method." },
		[AUTHERR_EXPIRED_TOKEN] = { 400, "ExpiredToken",
		    "The provided token has expired." },
		[AUTHERR_SKEW] = { 403, "RequestTimeTooSkewed",
		    "The difference between the request time and the current "
		    "time is too large." },
		[AUTHERR_REGION_DISABLED] = { 403, "InvalidAccessKeyId",
		    "The AWS Access Key Id you provided does not exist in our "
		    "records." },
		[AUTHERR_BAD_TOKEN] = { 400, "InvalidToken",
		    "The provided token is malformed or otherwise invalid." },
	},
};

void
autherr_reply(struct emu_req *req, enum autherr_kind kind, const char *detail)
{
	enum emu_proto proto = req->svc != NULL ? req->svc->proto :
	    EMU_PROTO_QUERY;
	const struct autherr *e = &autherr_table[proto][kind];

	if (kind == AUTHERR_REGION_DISABLED && req->svc != NULL &&
	    req->svc->region_disabled_code != NULL) {
		reply_error(req, 403, req->svc->region_disabled_code, "%s",
		    detail != NULL ? detail : "This region is not enabled for "
		    "the account.");
		return;
	}
	reply_error(req, e->status, e->code, "%s",
	    detail != NULL ? detail : e->message);
}
