#!/bin/sh
# make-certs.sh [DIR]: a development CA and the certificates NATS TLS needs,
# for deploy/compose.yaml and deploy/k8s. Writes into DIR (default
# deploy/certs, which .dockerignore and deploy/.gitignore keep out of the
# image and of git):
#
#   ca.pem, ca-key.pem                     the CA (its key stays here: 0600)
#   nats-server.pem, nats-server-key.pem   the NATS server: clients' and
#                                          routes' TLS (serverAuth and
#                                          clientAuth, as a route dials out)
#   talkratio-client.pem,                  talkratio's client certificate
#   talkratio-client-key.pem               (-nats-tls-cert, -nats-tls-key)
#
# The server certificate names the compose service (nats), localhost, and
# the Kubernetes names of deploy/k8s in namespace $NAMESPACE (default
# talkratio): the Service nats and the StatefulSet's pods under the
# headless Service nats-headless.
#
# Development only: for production, use your own CA (cert-manager, Vault)
# with the same names and key usages.
#
# Environment: NAMESPACE (talkratio), DAYS (825), FORCE=1 to replace
# certificates that exist.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/certs}
ns=${NAMESPACE:-talkratio}
days=${DAYS:-825}

command -v openssl >/dev/null 2>&1 || { echo "make-certs.sh: openssl is needed" >&2; exit 1; }
mkdir -p "$out"
if [ -e "$out/ca.pem" ] && [ "${FORCE:-}" != 1 ]; then
	echo "make-certs.sh: $out/ca.pem exists; FORCE=1 replaces the CA and every certificate" >&2
	exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# One openssl config per certificate, so that the extensions are exactly
# these with OpenSSL 1.1 and 3 alike.
cat >"$tmp/req.cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = placeholder
EOF

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# The CA.
key "$out/ca-key.pem"
cat >"$tmp/ca.ext" <<'EOF'
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
EOF
openssl req -new -config "$tmp/req.cnf" -key "$out/ca-key.pem" -subj "/O=talkratio dev/CN=talkratio dev CA" -out "$tmp/ca.csr"
openssl x509 -req -in "$tmp/ca.csr" -signkey "$out/ca-key.pem" -days "$days" -sha256 \
	-extfile "$tmp/ca.ext" -out "$out/ca.pem" 2>/dev/null

# sign NAME CN EKU SAN: a leaf certificate signed by the CA.
sign() {
	name=$1 cn=$2 eku=$3 san=$4
	key "$out/$name-key.pem"
	{
		echo "basicConstraints = critical, CA:FALSE"
		echo "keyUsage = critical, digitalSignature"
		echo "extendedKeyUsage = $eku"
		echo "subjectKeyIdentifier = hash"
		echo "authorityKeyIdentifier = keyid"
		[ -z "$san" ] || echo "subjectAltName = $san"
	} >"$tmp/$name.ext"
	openssl req -new -config "$tmp/req.cnf" -key "$out/$name-key.pem" -subj "/O=talkratio dev/CN=$cn" -out "$tmp/$name.csr"
	openssl x509 -req -in "$tmp/$name.csr" -CA "$out/ca.pem" -CAkey "$out/ca-key.pem" -CAcreateserial \
		-CAserial "$tmp/ca.srl" -days "$days" -sha256 -extfile "$tmp/$name.ext" -out "$out/$name.pem" 2>/dev/null
}

hl="nats-headless.$ns"
sign nats-server nats "serverAuth, clientAuth" \
	"DNS:nats, DNS:localhost, DNS:nats.$ns, DNS:nats.$ns.svc, DNS:nats.$ns.svc.cluster.local, DNS:*.nats-headless, DNS:*.$hl, DNS:*.$hl.svc, DNS:*.$hl.svc.cluster.local, IP:127.0.0.1, IP:::1"
sign talkratio-client talkratio "clientAuth" ""

# The CA key never leaves this directory. The two keys that are mounted
# into containers must be readable by their processes: talkratio's image
# runs as uid 65532, which does not own these files on the host, so they
# are world-readable here (a development machine's directory). In
# Kubernetes they come from Secrets (deploy/k8s/secrets.template.yaml).
chmod 600 "$out/ca-key.pem"
chmod 644 "$out/ca.pem" "$out/nats-server.pem" "$out/talkratio-client.pem" \
	"$out/nats-server-key.pem" "$out/talkratio-client-key.pem"

openssl verify -CAfile "$out/ca.pem" "$out/nats-server.pem" "$out/talkratio-client.pem" >/dev/null
echo "make-certs.sh: CA and certificates in $out (valid $days days; NATS names for namespace $ns)"
cat <<EOF
For Kubernetes (deploy/k8s), the TLS Secrets:
  kubectl -n $ns create secret generic nats-server-tls \\
    --from-file=ca.pem=$out/ca.pem --from-file=nats-server.pem=$out/nats-server.pem --from-file=nats-server-key.pem=$out/nats-server-key.pem
  kubectl -n $ns create secret generic talkratio-nats-tls \\
    --from-file=ca.pem=$out/ca.pem --from-file=talkratio-client.pem=$out/talkratio-client.pem --from-file=talkratio-client-key.pem=$out/talkratio-client-key.pem
EOF
