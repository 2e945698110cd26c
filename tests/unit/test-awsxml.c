/*
 * awsxml: the tree built from real-shaped AWS XML responses, the three error
 * shapes, and refusal of every kind of malformed or hostile body.
 *
 * Fixture shapes (element names, nesting, list member names) come from the
 * botocore service models on this machine,
 * /usr/lib/python3/dist-packages/botocore/data/{sts/2011-06-15,
 * ec2/2016-11-15,s3/2006-03-01,rds/2014-10-31}/service-2.json (e.g. EC2
 * Reservation.Instances has locationName "instancesSet" with members "item";
 * RDS DBInstance.TagList has members "Tag"), the namespaces from their
 * metadata.xmlNamespace, and the error shapes from botocore/parsers.py and
 * the AWS API reference "Common Errors" pages. Identifiers are the AWS
 * documentation's EXAMPLE values. Expected values are read off the fixture
 * text by hand.
 *
 * Expected parser messages: the reason and position are what libexpat 2.5
 * reports through Python's pyexpat for the same bytes (pyexpat's 0-based
 * "offset" plus one, since awsxml prints columns from 1); the prefix text is
 * awsxml's own contract.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "awsxml.h"
#include "errbuf.h"

static const char sts_assume_role[] =
    "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
    "  <AssumeRoleResult>\n"
    "    <SourceIdentity>Alice</SourceIdentity>\n"
    "    <AssumedRoleUser>\n"
    "      <Arn>arn:aws:sts::123456789012:assumed-role/demo/TestAR</Arn>\n"
    "      <AssumedRoleId>ARO123EXAMPLE123:TestAR</AssumedRoleId>\n"
    "    </AssumedRoleUser>\n"
    "    <Credentials>\n"
    "      <AccessKeyId>ASIAIOSFODNN7EXAMPLE</AccessKeyId>\n"
    "      <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"
    "</SecretAccessKey>\n"
    "      <SessionToken>AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wD"
    "Ok4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSE"
    "I/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0w"
    "q5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL6"
    "4lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/"
    "oLxBA==</SessionToken>\n"
    "      <Expiration>2019-11-09T13:34:41Z</Expiration>\n"
    "    </Credentials>\n"
    "    <PackedPolicySize>6</PackedPolicySize>\n"
    "  </AssumeRoleResult>\n"
    "  <ResponseMetadata>\n"
    "    <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>\n"
    "  </ResponseMetadata>\n"
    "</AssumeRoleResponse>\n";

static const char sts_get_caller_identity[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<GetCallerIdentityResponse "
    "xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
    "  <GetCallerIdentityResult>\n"
    "    <Arn>arn:aws:iam::123456789012:user/Alice</Arn>\n"
    "    <UserId>AIDACKCEVSQ6C2EXAMPLE</UserId>\n"
    "    <Account>123456789012</Account>\n"
    "  </GetCallerIdentityResult>\n"
    "  <ResponseMetadata>\n"
    "    <RequestId>01234567-89ab-cdef-0123-456789abcdef</RequestId>\n"
    "  </ResponseMetadata>\n"
    "</GetCallerIdentityResponse>\n";

/*
 * Two reservations; the first holds two instances. groupSet items sit beside
 * instancesSet items so iteration must stay inside the named set. One tag
 * value has inner and edge spaces, one is empty.
 */
static const char ec2_describe_instances[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<DescribeInstancesResponse "
    "xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">\n"
    "    <requestId>8f7724cf-496f-496e-8fe3-example</requestId>\n"
    "    <reservationSet>\n"
    "        <item>\n"
    "            <reservationId>r-1234567890abcdef0</reservationId>\n"
    "            <ownerId>123456789012</ownerId>\n"
    "            <groupSet>\n"
    "                <item><groupId>sg-0598c7d356eba48d7</groupId>"
    "<groupName>default</groupName></item>\n"
    "            </groupSet>\n"
    "            <instancesSet>\n"
    "                <item>\n"
    "                    <instanceId>i-1234567890abcdef0</instanceId>\n"
    "                    <imageId>ami-0abcdef1234567890</imageId>\n"
    "                    <instanceState>\n"
    "                        <code>16</code>\n"
    "                        <name>running</name>\n"
    "                    </instanceState>\n"
    "                    <instanceType>t3.micro</instanceType>\n"
    "                    <launchTime>2024-01-15T10:00:00.000Z</launchTime>\n"
    "                    <tagSet>\n"
    "                        <item>\n"
    "                            <key>Name</key>\n"
    "                            <value>web-1</value>\n"
    "                        </item>\n"
    "                        <item>\n"
    "                            <key>Team</key>\n"
    "                            <value> Data &amp; ML </value>\n"
    "                        </item>\n"
    "                        <item>\n"
    "                            <key>Owner</key>\n"
    "                            <value/>\n"
    "                        </item>\n"
    "                    </tagSet>\n"
    "                </item>\n"
    "                <item>\n"
    "                    <instanceId>i-0598c7d356eba48d7</instanceId>\n"
    "                    <instanceState><code>80</code>"
    "<name>stopped</name></instanceState>\n"
    "                    <instanceType>m5.large</instanceType>\n"
    "                </item>\n"
    "            </instancesSet>\n"
    "        </item>\n"
    "        <item>\n"
    "            <reservationId>r-0fedcba0987654321</reservationId>\n"
    "            <ownerId>123456789012</ownerId>\n"
    "            <groupSet/>\n"
    "            <instancesSet>\n"
    "                <item>\n"
    "                    <instanceId>i-0fedcba0987654321</instanceId>\n"
    "                    <tagSet>\n"
    "                        <item><key>CostCenter</key>"
    "<value>cc-4711</value></item>\n"
    "                    </tagSet>\n"
    "                </item>\n"
    "            </instancesSet>\n"
    "        </item>\n"
    "    </reservationSet>\n"
    "    <nextToken>eyJ2IjoiMiIsImMiOiJFeGFtcGxlIn0=</nextToken>\n"
    "</DescribeInstancesResponse>\n";

static const char s3_list_buckets[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<ListAllMyBucketsResult "
    "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
    "<Owner><ID>bcaf1ffd86f41161ca5fb16fd081034f</ID>"
    "<DisplayName>webfile</DisplayName></Owner>"
    "<Buckets>"
    "<Bucket><Name>amzn-s3-demo-bucket1</Name>"
    "<CreationDate>2006-02-03T16:45:09.000Z</CreationDate></Bucket>"
    "<Bucket><Name>amzn-s3-demo-bucket2</Name>"
    "<CreationDate>2006-02-03T16:41:58.000Z</CreationDate></Bucket>"
    "<Bucket><Name>logs.example.com</Name>"
    "<CreationDate>2021-07-30T08:00:00.000Z</CreationDate></Bucket>"
    "</Buckets></ListAllMyBucketsResult>";

static const char s3_get_bucket_tagging[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<Tagging xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n"
    "  <TagSet>\n"
    "    <Tag>\n"
    "      <Key>Project</Key>\n"
    "      <Value>Project One</Value>\n"
    "    </Tag>\n"
    "    <Tag>\n"
    "      <Key>User</Key>\n"
    "      <Value>jsmith</Value>\n"
    "    </Tag>\n"
    "  </TagSet>\n"
    "</Tagging>\n";

static const char rds_describe_db_instances[] =
    "<DescribeDBInstancesResponse "
    "xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\">\n"
    "  <DescribeDBInstancesResult>\n"
    "    <Marker>bWFya2VyLWRiLTI=</Marker>\n"
    "    <DBInstances>\n"
    "      <DBInstance>\n"
    "        <DBInstanceIdentifier>mydbinstance</DBInstanceIdentifier>\n"
    "        <DBInstanceArn>arn:aws:rds:us-east-1:123456789012:db:"
    "mydbinstance</DBInstanceArn>\n"
    "        <Engine>mysql</Engine>\n"
    "        <DBInstanceStatus>available</DBInstanceStatus>\n"
    "        <AllocatedStorage>20</AllocatedStorage>\n"
    "        <TagList>\n"
    "          <Tag><Key>Environment</Key><Value>production</Value></Tag>\n"
    "          <Tag><Key>Owner</Key><Value>dba@example.com</Value></Tag>\n"
    "        </TagList>\n"
    "      </DBInstance>\n"
    "      <DBInstance>\n"
    "        <DBInstanceIdentifier>reporting</DBInstanceIdentifier>\n"
    "        <Engine>postgres</Engine>\n"
    "        <TagList/>\n"
    "      </DBInstance>\n"
    "    </DBInstances>\n"
    "  </DescribeDBInstancesResult>\n"
    "  <ResponseMetadata>\n"
    "    <RequestId>9135fff3-8509-11e0-bd9b-a7b1ece36d51</RequestId>\n"
    "  </ResponseMetadata>\n"
    "</DescribeDBInstancesResponse>\n";

static const char query_error[] =
    "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
    "  <Error>\n"
    "    <Type>Sender</Type>\n"
    "    <Code>AccessDenied</Code>\n"
    "    <Message>User: arn:aws:iam::123456789012:user/Alice is not "
    "authorized to perform: sts:AssumeRole on resource: "
    "arn:aws:iam::210987654321:role/FinOpsTagComplianceReadOnly</Message>\n"
    "  </Error>\n"
    "  <RequestId>4f1b4e5a-8f0e-4d2c-9e0b-0example</RequestId>\n"
    "</ErrorResponse>\n";

static const char s3_no_such_tag_set[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<Error><Code>NoSuchTagSet</Code>"
    "<Message>The TagSet does not exist</Message>"
    "<BucketName>amzn-s3-demo-bucket1</BucketName>"
    "<RequestId>4442587FB7D0A2F9</RequestId>"
    "<HostId>9Y5P3Yc3+fUhHEXAMPLE=</HostId></Error>";

static const char ec2_auth_failure[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<Response><Errors><Error><Code>AuthFailure</Code>"
    "<Message>AWS was not able to validate the provided access "
    "credentials</Message></Error></Errors>"
    "<RequestID>ea966190-f9aa-478e-9ede-example</RequestID></Response>";

static struct awsxml_node *
parse_ok(const char *body)
{
	struct errbuf err;
	struct awsxml_node *root;

	err_clear(&err);
	root = awsxml_parse(body, strlen(body), &err);
	if (root == NULL)
		fail_msg("unexpected parse error: %s", err.msg);
	return root;
}

static void
test_awsxml_sts_assume_role(void **state)
{
	struct awsxml_node *root;
	const char *token;

	(void)state;
	root = parse_ok(sts_assume_role);
	assert_string_equal(root->name, "AssumeRoleResponse");
	assert_null(root->parent);
	assert_string_equal(root->text, "");
	assert_string_equal(awsxml_text(root,
	    "AssumeRoleResult/Credentials/AccessKeyId"), "ASIAIOSFODNN7EXAMPLE");
	assert_string_equal(awsxml_text(root,
	    "AssumeRoleResult/Credentials/SecretAccessKey"),
	    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY");
	token = awsxml_text(root, "AssumeRoleResult/Credentials/SessionToken");
	assert_non_null(token);
	/* 49 + 4 * 70 + 7 characters, counted on the fixture lines. */
	assert_int_equal(strlen(token), 336);
	assert_memory_equal(token, "AQoDYXdzEPT//", 13);
	assert_string_equal(token + 329, "oLxBA==");
	assert_string_equal(awsxml_text(root,
	    "AssumeRoleResult/Credentials/Expiration"), "2019-11-09T13:34:41Z");
	assert_string_equal(awsxml_text(root,
	    "AssumeRoleResult/AssumedRoleUser/Arn"),
	    "arn:aws:sts::123456789012:assumed-role/demo/TestAR");
	assert_string_equal(awsxml_text(root,
	    "AssumeRoleResult/PackedPolicySize"), "6");
	assert_string_equal(awsxml_text(root, "ResponseMetadata/RequestId"),
	    "c6104cbe-af31-11e0-8154-cbc7ccf896c7");
	assert_string_equal(awsxml_find(root,
	    "AssumeRoleResult/Credentials")->parent->name, "AssumeRoleResult");
	awsxml_free(root);
}

static void
test_awsxml_sts_get_caller_identity(void **state)
{
	struct awsxml_node *root;

	(void)state;
	root = parse_ok(sts_get_caller_identity);
	assert_string_equal(root->name, "GetCallerIdentityResponse");
	assert_string_equal(awsxml_text(root,
	    "GetCallerIdentityResult/Account"), "123456789012");
	assert_string_equal(awsxml_text(root,
	    "GetCallerIdentityResult/Arn"),
	    "arn:aws:iam::123456789012:user/Alice");
	assert_string_equal(awsxml_text(root,
	    "GetCallerIdentityResult/UserId"), "AIDACKCEVSQ6C2EXAMPLE");
	assert_null(awsxml_text(root, "GetCallerIdentityResult/Missing"));
	awsxml_free(root);
}

static void
test_awsxml_ec2_describe_instances_page(void **state)
{
	static const char *const ids[] = { "i-1234567890abcdef0",
	    "i-0598c7d356eba48d7", "i-0fedcba0987654321" };
	struct awsxml_node *root;
	const struct awsxml_node *r, *i, *t, *first;
	size_t n = 0, ntags = 0, nres = 0;

	(void)state;
	root = parse_ok(ec2_describe_instances);
	assert_string_equal(awsxml_text(root, "nextToken"),
	    "eyJ2IjoiMiIsImMiOiJFeGFtcGxlIn0=");
	for (r = awsxml_first(awsxml_find(root, "reservationSet"), "item");
	    r != NULL; r = awsxml_next(r), nres++) {
		for (i = awsxml_first(awsxml_find(r, "instancesSet"), "item");
		    i != NULL; i = awsxml_next(i), n++) {
			assert_true(n < 3);
			assert_string_equal(awsxml_text(i, "instanceId"),
			    ids[n]);
			for (t = awsxml_first(awsxml_find(i, "tagSet"),
			    "item"); t != NULL; t = awsxml_next(t))
				ntags++;
		}
	}
	assert_int_equal(nres, 2);
	assert_int_equal(n, 3);
	assert_int_equal(ntags, 4);

	first = awsxml_first(awsxml_find(root, "reservationSet/item/"
	    "instancesSet"), "item");
	assert_string_equal(awsxml_text(first, "instanceState/name"),
	    "running");
	assert_string_equal(awsxml_text(first, "instanceState/code"), "16");
	t = awsxml_next(awsxml_first(awsxml_find(first, "tagSet"), "item"));
	assert_string_equal(awsxml_text(t, "key"), "Team");
	/* Leaf text is kept exactly: edge spaces are part of a tag value. */
	assert_string_equal(awsxml_text(t, "value"), " Data & ML ");
	t = awsxml_next(t);
	assert_string_equal(awsxml_text(t, "key"), "Owner");
	assert_string_equal(awsxml_text(t, "value"), "");
	assert_null(awsxml_next(t));
	assert_string_equal(awsxml_text(root,
	    "reservationSet/item/groupSet/item/groupName"), "default");
	/* The second reservation's groupSet is present but empty. */
	r = awsxml_next(awsxml_first(awsxml_find(root, "reservationSet"),
	    "item"));
	assert_non_null(awsxml_find(r, "groupSet"));
	assert_null(awsxml_first(awsxml_find(r, "groupSet"), "item"));
	awsxml_free(root);
}

static void
test_awsxml_s3_list_buckets(void **state)
{
	static const char *const names[] = { "amzn-s3-demo-bucket1",
	    "amzn-s3-demo-bucket2", "logs.example.com" };
	struct awsxml_node *root;
	const struct awsxml_node *b;
	size_t n = 0;

	(void)state;
	root = parse_ok(s3_list_buckets);
	assert_string_equal(root->name, "ListAllMyBucketsResult");
	assert_string_equal(awsxml_text(root, "Owner/ID"),
	    "bcaf1ffd86f41161ca5fb16fd081034f");
	for (b = awsxml_first(awsxml_find(root, "Buckets"), "Bucket");
	    b != NULL; b = awsxml_next(b), n++) {
		assert_true(n < 3);
		assert_string_equal(awsxml_text(b, "Name"), names[n]);
	}
	assert_int_equal(n, 3);
	assert_string_equal(awsxml_text(root, "Buckets/Bucket/CreationDate"),
	    "2006-02-03T16:45:09.000Z");
	awsxml_free(root);
}

static void
test_awsxml_s3_get_bucket_tagging(void **state)
{
	struct awsxml_node *root;
	const struct awsxml_node *t;

	(void)state;
	root = parse_ok(s3_get_bucket_tagging);
	assert_string_equal(root->name, "Tagging");
	t = awsxml_first(awsxml_find(root, "TagSet"), "Tag");
	assert_string_equal(awsxml_text(t, "Key"), "Project");
	assert_string_equal(awsxml_text(t, "Value"), "Project One");
	t = awsxml_next(t);
	assert_string_equal(awsxml_text(t, "Key"), "User");
	assert_string_equal(awsxml_text(t, "Value"), "jsmith");
	assert_null(awsxml_next(t));
	/* Indentation around children is not text. */
	assert_string_equal(awsxml_find(root, "TagSet")->text, "");
	awsxml_free(root);
}

static void
test_awsxml_rds_describe_db_instances(void **state)
{
	struct awsxml_node *root;
	const struct awsxml_node *db, *t;

	(void)state;
	root = parse_ok(rds_describe_db_instances);
	assert_string_equal(awsxml_text(root,
	    "DescribeDBInstancesResult/Marker"), "bWFya2VyLWRiLTI=");
	db = awsxml_first(awsxml_find(root,
	    "DescribeDBInstancesResult/DBInstances"), "DBInstance");
	assert_string_equal(awsxml_text(db, "DBInstanceArn"),
	    "arn:aws:rds:us-east-1:123456789012:db:mydbinstance");
	t = awsxml_first(awsxml_find(db, "TagList"), "Tag");
	assert_string_equal(awsxml_text(t, "Key"), "Environment");
	assert_string_equal(awsxml_text(t, "Value"), "production");
	t = awsxml_next(t);
	assert_string_equal(awsxml_text(t, "Value"), "dba@example.com");
	assert_null(awsxml_next(t));
	db = awsxml_next(db);
	assert_string_equal(awsxml_text(db, "DBInstanceIdentifier"),
	    "reporting");
	assert_null(awsxml_first(awsxml_find(db, "TagList"), "Tag"));
	assert_null(awsxml_next(db));
	awsxml_free(root);
}

static void
test_awsxml_text_rules(void **state)
{
	static const char body[] =
	    "<r>\n  <space> </space>\n  <lines>\n  a b\n</lines>\n"
	    "  <ent>&lt;a&gt; &amp; &quot;b&quot; &apos;c&apos;</ent>\n"
	    "  <ref>caf&#233; &#x263A;</ref>\n"
	    "  <cdata><![CDATA[<not a tag> & ]]>tail</cdata>\n"
	    "  <utf8>Z\xc3\xbcrich</utf8>\n"
	    "  <mixed>x<i/>y</mixed>\n"
	    "</r>";
	struct awsxml_node *root;

	(void)state;
	root = parse_ok(body);
	assert_string_equal(root->text, "");
	assert_string_equal(awsxml_text(root, "space"), " ");
	assert_string_equal(awsxml_text(root, "lines"), "\n  a b\n");
	assert_string_equal(awsxml_text(root, "ent"),
	    "<a> & \"b\" 'c'");
	/* U+00E9 is C3 A9 and U+263A is E2 98 BA in UTF-8. */
	assert_string_equal(awsxml_text(root, "ref"),
	    "caf\xc3\xa9 \xe2\x98\xba");
	assert_string_equal(awsxml_text(root, "cdata"), "<not a tag> & tail");
	assert_string_equal(awsxml_text(root, "utf8"), "Z\xc3\xbcrich");
	/* Non-blank text around a child is kept, concatenated. */
	assert_string_equal(awsxml_text(root, "mixed"), "xy");
	assert_string_equal(awsxml_text(root, "mixed/i"), "");
	awsxml_free(root);
}

static void
test_awsxml_namespace_prefixes_are_dropped(void **state)
{
	static const char body[] =
	    "<a:Envelope xmlns:a=\"urn:example:a\" "
	    "xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\" "
	    "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">"
	    "<a:Body xsi:type=\"x\"><item attr=\"1\">v</item></a:Body>"
	    "</a:Envelope>";
	struct awsxml_node *root;

	(void)state;
	root = parse_ok(body);
	assert_string_equal(root->name, "Envelope");
	assert_string_equal(awsxml_text(root, "Body/item"), "v");
	assert_null(awsxml_find(root, "a:Body"));
	awsxml_free(root);
}

/*
 * S3 ListObjectVersions sends two flattened lists (Versions as <Version>,
 * DeleteMarkers as <DeleteMarker>, per the s3 model) interleaved in one
 * parent: iteration by name must skip the other kind.
 */
static void
test_awsxml_next_skips_other_names(void **state)
{
	static const char body[] =
	    "<ListVersionsResult "
	    "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
	    "<Name>amzn-s3-demo-bucket1</Name>"
	    "<Version><Key>a</Key><VersionId>v3</VersionId></Version>"
	    "<DeleteMarker><Key>a</Key><VersionId>v2</VersionId></DeleteMarker>"
	    "<Version><Key>a</Key><VersionId>v1</VersionId></Version>"
	    "<DeleteMarker><Key>b</Key><VersionId>v9</VersionId></DeleteMarker>"
	    "</ListVersionsResult>";
	struct awsxml_node *root;
	const struct awsxml_node *v;

	(void)state;
	root = parse_ok(body);
	v = awsxml_first(root, "Version");
	assert_string_equal(awsxml_text(v, "VersionId"), "v3");
	v = awsxml_next(v);
	assert_string_equal(awsxml_text(v, "VersionId"), "v1");
	assert_null(awsxml_next(v));
	v = awsxml_first(root, "DeleteMarker");
	assert_string_equal(awsxml_text(v, "VersionId"), "v2");
	v = awsxml_next(v);
	assert_string_equal(awsxml_text(v, "Key"), "b");
	assert_null(awsxml_next(v));
	awsxml_free(root);
}

static void
test_awsxml_find_edge_cases(void **state)
{
	struct awsxml_node *root;

	(void)state;
	root = parse_ok(s3_get_bucket_tagging);
	assert_ptr_equal(awsxml_find(root, ""), root);
	assert_string_equal(awsxml_text(root, ""), "");
	assert_null(awsxml_find(root, NULL));
	assert_null(awsxml_find(NULL, "TagSet"));
	assert_null(awsxml_text(NULL, "TagSet"));
	assert_null(awsxml_find(root, "Tagging/TagSet"));
	assert_null(awsxml_find(root, "/TagSet"));
	assert_null(awsxml_find(root, "TagSet/"));
	assert_null(awsxml_find(root, "TagSet//Tag"));
	assert_null(awsxml_find(root, "TagSe"));
	assert_null(awsxml_find(root, "TagSetX"));
	assert_null(awsxml_find(root, "TagSet/Tag/Key/Deeper"));
	assert_string_equal(awsxml_text(root, "TagSet/Tag/Key"), "Project");
	assert_null(awsxml_first(NULL, "Tag"));
	assert_null(awsxml_first(root, NULL));
	assert_null(awsxml_first(root, "Tag"));
	assert_null(awsxml_next(NULL));
	assert_null(awsxml_next(root));
	awsxml_free(root);
	awsxml_free(NULL);
}

static void
test_awsxml_error_query(void **state)
{
	char code[64], msg[512];

	(void)state;
	assert_int_equal(awsxml_error(query_error, strlen(query_error),
	    code, sizeof(code), msg, sizeof(msg)), 0);
	assert_string_equal(code, "AccessDenied");
	assert_string_equal(msg, "User: arn:aws:iam::123456789012:user/Alice "
	    "is not authorized to perform: sts:AssumeRole on resource: "
	    "arn:aws:iam::210987654321:role/FinOpsTagComplianceReadOnly");
}

static void
test_awsxml_error_s3_no_such_tag_set(void **state)
{
	char code[64], msg[256];

	(void)state;
	assert_int_equal(awsxml_error(s3_no_such_tag_set,
	    strlen(s3_no_such_tag_set), code, sizeof(code), msg, sizeof(msg)),
	    0);
	assert_string_equal(code, "NoSuchTagSet");
	assert_string_equal(msg, "The TagSet does not exist");
}

static void
test_awsxml_error_ec2_auth_failure(void **state)
{
	char code[64], msg[256];

	(void)state;
	assert_int_equal(awsxml_error(ec2_auth_failure,
	    strlen(ec2_auth_failure), code, sizeof(code), msg, sizeof(msg)), 0);
	assert_string_equal(code, "AuthFailure");
	assert_string_equal(msg, "AWS was not able to validate the provided "
	    "access credentials");
}

static void
test_awsxml_error_rejects_non_errors(void **state)
{
	static const char *const bodies[] = {
		sts_assume_role,
		s3_list_buckets,
		"",
		"not xml at all",
		"<Error><Message>no code</Message></Error>",
		"<Error><Code></Code><Message>empty code</Message></Error>",
		"<ErrorResponse><Code>Wrong</Code></ErrorResponse>",
		"<Response><Errors><Error><Code>Trunc",
		"<Errors><Error><Code>X</Code></Error></Errors>",
		NULL,
	};
	char code[64], msg[256];
	size_t i;

	(void)state;
	for (i = 0; bodies[i] != NULL; i++) {
		strcpy(code, "untouched");
		assert_int_equal(awsxml_error(bodies[i], strlen(bodies[i]),
		    code, sizeof(code), msg, sizeof(msg)), -1);
		assert_string_equal(code, "untouched");
	}
	assert_int_equal(awsxml_error(NULL, 0, code, sizeof(code), msg,
	    sizeof(msg)), -1);
}

static void
test_awsxml_error_without_message(void **state)
{
	static const char body[] = "<Error><Code>SlowDown</Code></Error>";
	char code[64], msg[64];

	(void)state;
	strcpy(msg, "stale");
	assert_int_equal(awsxml_error(body, strlen(body), code, sizeof(code),
	    msg, sizeof(msg)), 0);
	assert_string_equal(code, "SlowDown");
	assert_string_equal(msg, "");
}

static void
test_awsxml_error_truncates_safely(void **state)
{
	/* "Zürich" has ü as C3 BC: a 3-byte buffer must not split it. */
	static const char body[] =
	    "<Error><Code>InvalidAccessKeyId</Code>"
	    "<Message>Z\xc3\xbcrich\nline two\ttab</Message></Error>";
	char code[8], msg[3], big[64];

	(void)state;
	memset(code, 'x', sizeof(code));
	assert_int_equal(awsxml_error(body, strlen(body), code, sizeof(code),
	    msg, sizeof(msg)), 0);
	assert_string_equal(code, "Invalid");	/* 7 bytes + NUL */
	assert_string_equal(msg, "Z");		/* not "Z\xc3" */
	assert_int_equal(awsxml_error(body, strlen(body), code, sizeof(code),
	    big, sizeof(big)), 0);
	/* Control characters become spaces; nothing else changes. */
	assert_string_equal(big, "Z\xc3\xbcrich line two tab");
	/* A zero-size buffer is left alone. */
	big[0] = 'q';
	assert_int_equal(awsxml_error(body, strlen(body), code, sizeof(code),
	    big, 0), 0);
	assert_int_equal(big[0], 'q');
}

static void
test_awsxml_errcpy(void **state)
{
	char buf[5];

	(void)state;
	awsxml_errcpy(buf, sizeof(buf), "abcd");
	assert_string_equal(buf, "abcd");
	awsxml_errcpy(buf, sizeof(buf), "abcde");
	assert_string_equal(buf, "abcd");
	/* U+263A is E2 98 BA: "a" + it is 4 bytes and fits exactly. */
	awsxml_errcpy(buf, sizeof(buf), "a\xe2\x98\xba");
	assert_string_equal(buf, "a\xe2\x98\xba");
	awsxml_errcpy(buf, sizeof(buf), "ab\xe2\x98\xba");
	assert_string_equal(buf, "ab");
	awsxml_errcpy(buf, sizeof(buf), "\x1b[2J");
	assert_string_equal(buf, " [2J");
	awsxml_errcpy(buf, sizeof(buf), NULL);
	assert_string_equal(buf, "");
}

struct bad_xml {
	const char	*what;
	const char	*body;
	size_t		 len;	/* 0: strlen(body) */
	const char	*msg;
};

#define MALFORMED "malformed XML in AWS response at line "
#define REFUSED "XML in AWS response refused at line "
#define NO_DOCTYPE "DOCTYPE declarations are not accepted (AWS never " \
	"sends them; entity definitions could expand without bound)"

static const struct bad_xml bad_xml[] = {
	{ "truncated", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	  "<GetCallerIdentityResponse "
	  "xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
	  "  <GetCallerIdentityResult>\n"
	  "    <Arn>arn:aws:iam::123456789012:user/Alice</Arn>\n"
	  "    <UserId>AIDA", 0, MALFORMED "5, column 17: no element found" },
	{ "unclosed inner tag",
	  "<Tagging><TagSet><Tag><Key>env</Key></TagSet></Tagging>", 0,
	  MALFORMED "1, column 39: mismatched tag" },
	{ "unclosed at end", "<Tagging><TagSet>", 0,
	  MALFORMED "1, column 18: no element found" },
	{ "latin-1 byte", "<Value>caf\xe9</Value>", 0,
	  MALFORMED "1, column 11: not well-formed (invalid token)" },
	{ "invalid utf-8 bytes", "<a>\xff\xfe</a>", 0,
	  MALFORMED "1, column 4: not well-formed (invalid token)" },
	{ "whitespace only", "  \n ", 0,
	  MALFORMED "2, column 2: no element found" },
	{ "json instead of xml", "{\"__type\":\"x\"}", 0,
	  MALFORMED "1, column 1: not well-formed (invalid token)" },
	{ "plain text", "Service Unavailable", 0,
	  MALFORMED "1, column 1: syntax error" },
	{ "html error page",
	  "<html><body><h1>503 Service Unavailable</h1><br></body></html>", 0,
	  MALFORMED "1, column 51: mismatched tag" },
	{ "nul byte", "<a>x\0y</a>", 10,
	  MALFORMED "1, column 5: not well-formed (invalid token)" },
	{ "trailing garbage", "<a/>junk", 0,
	  MALFORMED "1, column 5: junk after document element" },
	{ "two roots", "<a/><b/>", 0,
	  MALFORMED "1, column 5: junk after document element" },
	{ "unbound prefix", "<x:a/>", 0, MALFORMED "1, column 1: unbound prefix" },
	{ "undefined entity", "<a>&foo;</a>", 0,
	  MALFORMED "1, column 4: undefined entity" },
	{ "nul character reference", "<a>&#0;</a>", 0,
	  MALFORMED "1, column 4: reference to invalid character number" },
	/*
	 * The DOCTYPE is refused before any entity is declared: expat reports
	 * it at its '[' (or at its '>' without an internal subset).
	 */
	{ "billion laughs",
	  "<?xml version=\"1.0\"?>\n"
	  "<!DOCTYPE lolz [\n"
	  " <!ENTITY lol \"lol\">\n"
	  " <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
	  " <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
	  " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
	  " <!ENTITY lol9 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
	  "]>\n<lolz>&lol9;</lolz>", 0, REFUSED "2, column 16: " NO_DOCTYPE },
	{ "external entity",
	  "<!DOCTYPE a [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><a>&x;</a>",
	  0, REFUSED "1, column 13: " NO_DOCTYPE },
	{ "bare doctype", "<!DOCTYPE html><html/>", 0,
	  REFUSED "1, column 15: " NO_DOCTYPE },
};

static void
test_awsxml_malformed_bodies(void **state)
{
	struct errbuf err;
	const struct bad_xml *b;
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(bad_xml) / sizeof(bad_xml[0]); i++) {
		b = &bad_xml[i];
		len = b->len != 0 ? b->len : strlen(b->body);
		err_clear(&err);
		if (awsxml_parse(b->body, len, &err) != NULL)
			fail_msg("%s: parsed", b->what);
		if (strcmp(err.msg, b->msg) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", b->what,
			    err.msg, b->msg);
	}
}

static void
test_awsxml_empty_body(void **state)
{
	struct errbuf err;

	(void)state;
	err_clear(&err);
	assert_null(awsxml_parse("", 0, &err));
	assert_string_equal(err.msg, "empty AWS response body where an XML "
	    "document was expected");
	err_clear(&err);
	assert_null(awsxml_parse(NULL, 0, &err));
	assert_string_equal(err.msg, "empty AWS response body where an XML "
	    "document was expected");
	/* A NULL errbuf is allowed and just loses the sentence. */
	assert_null(awsxml_parse("<a>", 3, NULL));
}

/* "<a>" repeated n times then "</a>" n times. */
static char *
nested(size_t n, size_t *lenp)
{
	char *s, *p;
	size_t i;

	*lenp = 7 * n;
	p = s = malloc(*lenp + 1);
	assert_non_null(s);
	for (i = 0; i < n; i++, p += 3)
		memcpy(p, "<a>", 3);
	for (i = 0; i < n; i++, p += 4)
		memcpy(p, "</a>", 4);
	*p = '\0';
	return s;
}

static void
test_awsxml_depth_limit(void **state)
{
	struct errbuf err;
	struct awsxml_node *root;
	const struct awsxml_node *n;
	char *body;
	size_t len, depth = 0;

	(void)state;
	body = nested(AWSXML_MAX_DEPTH, &len);
	root = awsxml_parse(body, len, &err);
	assert_non_null(root);
	for (n = root; n != NULL; n = n->first_child)
		depth++;
	assert_int_equal(depth, 64);
	awsxml_free(root);
	free(body);

	/* Element 65 starts at byte 64 * 3 = 192, i.e. column 193. */
	body = nested(10000, &len);
	err_clear(&err);
	assert_null(awsxml_parse(body, len, &err));
	assert_string_equal(err.msg, REFUSED "1, column 193: elements nested "
	    "deeper than 64 levels (AWSXML_MAX_DEPTH)");
	free(body);
}

static void
test_awsxml_size_limit(void **state)
{
	struct errbuf err;
	char *body;

	(void)state;
	/* Only the length is looked at; the bytes need not be XML. */
	body = calloc(1, (size_t)AWSXML_MAX_SIZE + 1);
	assert_non_null(body);
	err_clear(&err);
	assert_null(awsxml_parse(body, (size_t)AWSXML_MAX_SIZE + 1, &err));
	assert_string_equal(err.msg, "AWS XML response of 16777217 bytes is "
	    "larger than the 16777216-byte limit (AWSXML_MAX_SIZE); request "
	    "smaller pages");
	free(body);
}

static void
test_awsxml_huge_text(void **state)
{
	struct awsxml_node *root;
	struct errbuf err;
	size_t textlen = 8 * 1024 * 1024, i;
	char *body;

	(void)state;
	/* An 8 MiB value under the limit is kept whole. */
	body = malloc(textlen + 8);
	assert_non_null(body);
	memcpy(body, "<v>", 3);
	memset(body + 3, 'x', textlen);
	memcpy(body + 3 + textlen, "</v>", 5);
	root = awsxml_parse(body, textlen + 7, &err);
	assert_non_null(root);
	assert_int_equal(strlen(root->text), textlen);
	for (i = 0; i < textlen; i++)
		if (root->text[i] != 'x')
			fail_msg("byte %zu changed", i);
	awsxml_free(root);
	free(body);
}

static void
test_awsxml_node_limit(void **state)
{
	struct errbuf err;
	size_t n = AWSXML_MAX_NODES, len = 3 + 4 * n + 4, i;
	char *body, *p;

	(void)state;
	/* The root plus 1000000 children is one element too many. */
	p = body = malloc(len + 1);
	assert_non_null(body);
	memcpy(p, "<r>", 3);
	for (p += 3, i = 0; i < n; i++, p += 4)
		memcpy(p, "<a/>", 4);
	memcpy(p, "</r>", 5);
	err_clear(&err);
	assert_null(awsxml_parse(body, len, &err));
	/* The refused child starts at byte 3 + 999999 * 4 = 3999999. */
	assert_string_equal(err.msg, REFUSED "1, column 4000000: more than "
	    "1000000 elements (AWSXML_MAX_NODES)");
	free(body);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_awsxml_sts_assume_role),
		cmocka_unit_test(test_awsxml_sts_get_caller_identity),
		cmocka_unit_test(test_awsxml_ec2_describe_instances_page),
		cmocka_unit_test(test_awsxml_s3_list_buckets),
		cmocka_unit_test(test_awsxml_s3_get_bucket_tagging),
		cmocka_unit_test(test_awsxml_rds_describe_db_instances),
		cmocka_unit_test(test_awsxml_text_rules),
		cmocka_unit_test(test_awsxml_namespace_prefixes_are_dropped),
		cmocka_unit_test(test_awsxml_next_skips_other_names),
		cmocka_unit_test(test_awsxml_find_edge_cases),
		cmocka_unit_test(test_awsxml_error_query),
		cmocka_unit_test(test_awsxml_error_s3_no_such_tag_set),
		cmocka_unit_test(test_awsxml_error_ec2_auth_failure),
		cmocka_unit_test(test_awsxml_error_rejects_non_errors),
		cmocka_unit_test(test_awsxml_error_without_message),
		cmocka_unit_test(test_awsxml_error_truncates_safely),
		cmocka_unit_test(test_awsxml_errcpy),
		cmocka_unit_test(test_awsxml_malformed_bodies),
		cmocka_unit_test(test_awsxml_empty_body),
		cmocka_unit_test(test_awsxml_depth_limit),
		cmocka_unit_test(test_awsxml_size_limit),
		cmocka_unit_test(test_awsxml_huge_text),
		cmocka_unit_test(test_awsxml_node_limit),
	};

	return cmocka_run_group_tests_name("awsxml", tests, NULL, NULL);
}
