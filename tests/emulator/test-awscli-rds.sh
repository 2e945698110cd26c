#!/usr/bin/env bash
# awscli v2 (Debian) rds describe-db-instances against fixtures/rds.json:
# auto-pagination at several page sizes gives the fixture's instances of
# the region, the TagList and the errors reach the CLI. With pagination
# awscli applies --query per page, so ids are counted as words across
# pages. Prints one verdict line; 0 on pass.
set -u
. "$(cd "$(dirname "$0")" && pwd)/awscli-lib.sh"
awscli_start test-awscli-rds "$here/fixtures/rds.json"
export AWS_ACCESS_KEY_ID=AKIARDSTESTOWNER0001
export AWS_SECRET_ACCESS_KEY=owner/Secret/Key/For/RDS/Emulator/Test0
count="sum(r['type'] == 'rds:db' for r in emulib.resources(fx, '111111111111', '%s'))"

for size in 20 33 100; do
	check "describe-db-instances --page-size $size" \
	    "$(cli rds describe-db-instances --page-size "$size" \
	    --query 'DBInstances[].DBInstanceIdentifier' --output text | wc -w)" \
	    "$(expect "$(printf "$count" us-east-1)")"
done
check "describe-db-instances eu-west-1" \
    "$(cli rds describe-db-instances --region eu-west-1 \
    --query 'DBInstances[].DBInstanceIdentifier' --output text | wc -w)" \
    "$(expect "$(printf "$count" eu-west-1)")"
check "TagList of db-01" \
    "$(cli rds describe-db-instances --db-instance-identifier db-01 \
    --query 'DBInstances[0].TagList[?Key==`Owner`].Value' --output text)" \
    "$(expect "[emulib.tags_of(r)['Owner'] for r in emulib.resources(fx, '111111111111', 'us-east-1') if r['id'] == 'db-01'][0]")"
check "unknown DBInstanceIdentifier" \
    "$(cli_error rds describe-db-instances --db-instance-identifier nope)" \
    DBInstanceNotFound
check "not-opted-in region" \
    "$(cli_error rds describe-db-instances --region af-south-1)" \
    InvalidClientTokenId
awscli_finish
