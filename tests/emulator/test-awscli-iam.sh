#!/usr/bin/env bash
# awscli v2 (Debian) iam list-account-aliases against fixtures/iam.json:
# the alias of an aliased account, none for another, the error codes of a
# bad Marker and a wrong secret. Prints one verdict line; 0 on pass.
set -u
. "$(cd "$(dirname "$0")" && pwd)/awscli-lib.sh"
awscli_start test-awscli-iam "$here/fixtures/iam.json"
export AWS_ACCESS_KEY_ID=AKIAIAMTESTALIAS0001
export AWS_SECRET_ACCESS_KEY=alias/Secret/Key/For/IAM/Emulator/Test0

check "list-account-aliases" \
    "$(cli iam list-account-aliases --query 'AccountAliases' --output text)" \
    "$(expect "emulib.account(fx, '111111111111')['alias']")"
check "list-account-aliases --page-size 1" \
    "$(cli iam list-account-aliases --page-size 1 \
    --query 'length(AccountAliases)' --output text)" 1
check "no alias" \
    "$(AWS_ACCESS_KEY_ID=AKIAIAMTESTNOALIAS01 \
    AWS_SECRET_ACCESS_KEY=none/Secret/Key/For/IAM/Emulator/Tests0 \
    cli iam list-account-aliases --query 'length(AccountAliases)' \
    --output text)" \
    "$(expect "len([a for a in [emulib.account(fx, '222222222222').get('alias')] if a])")"
check "a Marker IAM never issued" \
    "$(cli_error iam list-account-aliases --starting-token never-issued)" \
    ValidationError
check "wrong secret" \
    "$(AWS_SECRET_ACCESS_KEY=wrong cli_error iam list-account-aliases)" \
    SignatureDoesNotMatch
awscli_finish
