#!/bin/sh
# compose-init.sh: what deploy/compose.yaml needs that is not in git.
#   - deploy/certs/: a development CA and the NATS certificates (make-certs.sh)
#   - deploy/.env: .env.example with every "change-me" replaced by a fresh
#     random secret
# Either is left alone if it exists. Then:
#   docker compose -f deploy/compose.yaml up -d --build
set -eu

here=$(cd "$(dirname "$0")" && pwd)
command -v openssl >/dev/null 2>&1 || { echo "compose-init.sh: openssl is needed" >&2; exit 1; }

if [ -e "$here/certs/ca.pem" ]; then
	echo "compose-init.sh: $here/certs exists; kept"
else
	"$here/make-certs.sh" "$here/certs" >/dev/null
	echo "compose-init.sh: certificates in $here/certs"
fi

if [ -e "$here/.env" ]; then
	echo "compose-init.sh: $here/.env exists; kept"
else
	# Hex for what goes into URLs (-db, -nats-url), base64 for the token
	# key, as talkratio token -new-key writes it.
	TALKRATIO_TOKEN_KEY=$(openssl rand -base64 32) \
	POSTGRES_PASSWORD=$(openssl rand -hex 24) \
	NATS_PASSWORD=$(openssl rand -hex 24) \
	MINIO_ROOT_PASSWORD=$(openssl rand -hex 24) \
	S3_SECRET_ACCESS_KEY=$(openssl rand -hex 24) \
	awk -F= '
		/^[A-Z0-9_]+=change-me$/ {
			if (!($1 in ENVIRON)) { print "compose-init.sh: no value for " $1 > "/dev/stderr"; exit 1 }
			print $1 "=" ENVIRON[$1]; next
		}
		{ print }
	' "$here/.env.example" >"$here/.env.tmp"
	chmod 600 "$here/.env.tmp"
	mv "$here/.env.tmp" "$here/.env"
	echo "compose-init.sh: secrets in $here/.env"
fi
echo "next: docker compose -f ${here#"$PWD"/}/compose.yaml up -d --build"
