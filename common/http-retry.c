/*
 * http-retry is AWS standard retry mode as pure functions: which failures
 * are retryable and how (transient, timeout, throttling), the retry quota,
 * and the backoff delay. The numbers match botocore's retries/standard.py.
 */
#include <limits.h>
#include <string.h>

#include <curl/curl.h>

#include "http.h"
#include "http-internal.h"
#include "strnum.h"

static const char *const throttle_codes[] = {
	"Throttling", "ThrottlingException", "ThrottledException",
	"RequestThrottledException", "TooManyRequestsException",
	"ProvisionedThroughputExceededException",
	"TransactionInProgressException", "RequestLimitExceeded",
	"BandwidthLimitExceeded", "LimitExceededException",
	"RequestThrottled", "SlowDown", "PriorRequestNotComplete",
	"EC2ThrottledException",
};

static const char *const transient_codes[] = {
	"RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete",
	"InternalError",
};

static const long transient_statuses[] = { 500, 502, 503, 504 };

/* Failures before a whole reply arrived that a new attempt may fix. */
static const CURLcode transient_curl[] = {
	CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_CONNECT, CURLE_SEND_ERROR,
	CURLE_RECV_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE,
	CURLE_SSL_CONNECT_ERROR, CURLE_HTTP2, CURLE_HTTP2_STREAM,
};

static int
code_in(const char *code, const char *const *list, size_t n)
{
	size_t i;

	if (code == NULL || *code == '\0')
		return 0;
	for (i = 0; i < n; i++)
		if (strcmp(code, list[i]) == 0)
			return 1;
	return 0;
}

enum http_retry_kind
http_retry_classify(CURLcode cc, long status, const char *code)
{
	size_t i;

	if (cc == CURLE_OPERATION_TIMEDOUT)
		return HTTP_RETRY_TIMEOUT;
	if (cc != CURLE_OK) {
		for (i = 0; i < HTTP_NELEM(transient_curl); i++)
			if (cc == transient_curl[i])
				return HTTP_RETRY_TRANSIENT;
		return HTTP_RETRY_NONE;
	}
	if (status >= 200 && status < 300)
		return HTTP_RETRY_NONE;
	if (status == 429 || code_in(code, throttle_codes,
	    HTTP_NELEM(throttle_codes)))
		return HTTP_RETRY_THROTTLE;
	if (code_in(code, transient_codes, HTTP_NELEM(transient_codes)))
		return HTTP_RETRY_TRANSIENT;
	for (i = 0; i < HTTP_NELEM(transient_statuses); i++)
		if (status == transient_statuses[i])
			return HTTP_RETRY_TRANSIENT;
	return HTTP_RETRY_NONE;
}

void
http_quota_init(struct http_retry_quota *q)
{
	q->capacity = q->available = HTTP_QUOTA_CAPACITY;
}

int
http_quota_acquire(struct http_retry_quota *q, enum http_retry_kind kind)
{
	int cost;

	if (kind == HTTP_RETRY_NONE)
		return 0;
	cost = kind == HTTP_RETRY_TIMEOUT ? HTTP_QUOTA_TIMEOUT_COST :
	    HTTP_QUOTA_RETRY_COST;
	if (cost > q->available)
		return 0;
	q->available -= cost;
	return cost;
}

void
http_quota_success(struct http_retry_quota *q, int last_cost)
{
	int amount = last_cost > 0 ? last_cost : HTTP_QUOTA_NO_RETRY_REFUND;

	if (amount > q->capacity - q->available)
		amount = q->capacity - q->available;
	q->available += amount;
}

long
http_retry_delay_ms(int attempt, double rnd, const char *retry_after)
{
	const char *errstr;
	long long v;
	double ms;

	if (retry_after != NULL && *retry_after != '\0') {
		v = strnum(retry_after, 0, LLONG_MAX, &errstr);
		if (errstr == NULL)
			return v > HTTP_MAX_BACKOFF_MS ? HTTP_MAX_BACKOFF_MS :
			    (long)v;
	}
	if (!(rnd >= 0.0))	/* also NaN */
		rnd = 0.0;
	if (rnd > 1.0)
		rnd = 1.0;
	/* Past 2^15 s the cap wins anyway; stop before the shift overflows. */
	if (attempt < 1)
		attempt = 1;
	if (attempt > 16)
		attempt = 16;
	ms = rnd * 1000.0 * (double)(1L << (attempt - 1));
	return ms > HTTP_MAX_BACKOFF_MS ? HTTP_MAX_BACKOFF_MS : (long)ms;
}

int
http_retry_decide(struct http_retry_quota *q, enum http_retry_kind kind,
    int attempt, int max_attempts, double rnd, const char *retry_after,
    long *delay_ms, int *cost)
{
	*delay_ms = 0;
	*cost = 0;
	if (kind == HTTP_RETRY_NONE || attempt >= max_attempts)
		return 0;
	if ((*cost = http_quota_acquire(q, kind)) == 0)
		return 0;
	*delay_ms = http_retry_delay_ms(attempt, rnd, retry_after);
	return 1;
}
