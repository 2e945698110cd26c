#!/usr/bin/env bash
# awscli v2 (Debian) s3api against fixtures/s3.json: list-buckets,
# get-bucket-location and get-bucket-tagging give what emulib.py reads from
# the fixture JSON, and the AWS error codes reach the CLI. Prints one
# verdict line; 0 on pass.
set -u
. "$(cd "$(dirname "$0")" && pwd)/awscli-lib.sh"
awscli_start test-awscli-s3 "$here/fixtures/s3.json"
export AWS_ACCESS_KEY_ID=AKIAS3TESTOWNER00001
export AWS_SECRET_ACCESS_KEY=owner/Secret/Key/For/S3/Emulator/Tests0
buckets="[r for rl in emulib.account(fx, '111111111111')['resources'].values() for r in rl if r['type'] == 's3:bucket']"

check "list-buckets" \
    "$(cli s3api list-buckets --query 'Buckets[].Name' --output text)" \
    "$(expect "'\t'.join(sorted(r['id'] for r in $buckets))")"
check "list-buckets from eu-west-1" \
    "$(cli s3api list-buckets --region eu-west-1 --query 'length(Buckets)' \
    --output text)" "$(expect "len($buckets)")"
check "get-bucket-location eu-west-1 bucket" \
    "$(cli s3api get-bucket-location --bucket eu-archive --output text)" \
    eu-west-1
# us-east-1 is a null LocationConstraint, which text output shows as None.
check "get-bucket-location us-east-1 bucket" \
    "$(cli s3api get-bucket-location --bucket alpha-logs --output text)" None
check "get-bucket-tagging in the bucket's region" \
    "$(cli s3api get-bucket-tagging --bucket eu-archive --region eu-west-1 \
    --query 'TagSet[?Key==`Owner`].Value' --output text)" \
    "$(expect "emulib.tags_of(emulib.resources(fx, '111111111111', 'eu-west-1')[0])['Owner']")"
check "get-bucket-tagging follows the 301 from us-east-1" \
    "$(cli s3api get-bucket-tagging --bucket eu-archive \
    --query 'length(TagSet)' --output text)" \
    "$(expect "len(emulib.tags_of(emulib.resources(fx, '111111111111', 'eu-west-1')[0]))")"
check "get-bucket-tagging of a never-tagged bucket" \
    "$(cli_error s3api get-bucket-tagging --bucket zeta-untagged)" NoSuchTagSet
check "get-bucket-tagging of another account's bucket" \
    "$(cli_error s3api get-bucket-tagging --bucket other-private)" AccessDenied
check "get-bucket-location of an unknown bucket" \
    "$(cli_error s3api get-bucket-location --bucket no-such-bkt)" NoSuchBucket
check "list-buckets in a not-opted-in region" \
    "$(cli_error s3api list-buckets --region af-south-1)" InvalidAccessKeyId
awscli_finish
