#!/bin/sh
# deploy/check.sh: checks deploy/ and docs/cluster.md offline, from any
# directory (paths are taken from the repository's root):
#
#   - every YAML file parses (python3 with PyYAML);
#   - the shell scripts parse (sh -n; shellcheck too, when installed);
#   - every `talkratio serve` command line (the compose nodes' commands,
#     the Deployment's args, the docs' sh blocks) uses only flags that
#     `talkratio serve -h` lists, and serve itself accepts it: the line is
#     run with -log-level=check-only appended, so serve parses every flag
#     (ints, durations) and runs its cluster checks (-db postgres://...,
#     -node-url, NATS exposure: TLS and credentials off loopback) before
#     it stops at the log level, without touching a database;
#   - compose: each node has its own -node-id, publishes its -ice-port as
#     the same UDP port on the host (the port it announces), and its
#     -node-url port maps to its HTTP port;
#   - k8s: every $(VAR) of the serve args is defined in the container's
#     env, and -ice-port is a UDP containerPort with the same hostPort;
#   - docs/cluster.md: every backquoted flag is a serve flag, and every
#     backquoted path under a route the server has (/whip..., /api...) is
#     one of its routes;
#   - .dockerignore leaves deploy/.env and deploy/certs/ out;
#   - make-certs.sh makes a CA and certificates that verify, with the
#     names and key usages NATS needs;
#   - when installed: nats-server -t on both NATS configurations, caddy
#     adapt on the Caddyfile, docker compose config, kubectl kustomize.
#
# A missing optional tool is reported as SKIP; any problem is FAIL and
# the exit status is 1. TALKRATIO_BIN=path uses that binary instead of
# building one with go build.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
ok() { echo "ok    $*"; }
skip() { echo "SKIP  $*"; }
fail() {
	echo "FAIL  $*"
	fails=$((fails + 1))
}
have() { command -v "$1" >/dev/null 2>&1; }

# The binary, and the flags serve lists.
if [ -n "${TALKRATIO_BIN:-}" ]; then
	bin=$TALKRATIO_BIN
else
	bin=$tmp/talkratio
	if ! go build -o "$bin" ./cmd/talkratio 2>"$tmp/build.log"; then
		cat "$tmp/build.log"
		fail "go build ./cmd/talkratio: the flags cannot be checked without the binary"
		echo "$fails problem(s)"
		exit 1
	fi
fi
if ! "$bin" serve -h >/dev/null 2>"$tmp/serve-h.txt"; then
	fail "talkratio serve -h did not exit 0"
fi
sed -n 's/^  -\([a-z0-9][a-z0-9-]*\).*/\1/p' "$tmp/serve-h.txt" >"$tmp/flags.txt"
n=$(wc -l <"$tmp/flags.txt")
if [ "$n" -lt 20 ]; then
	fail "talkratio serve -h lists only $n flags"
else
	ok "talkratio serve -h lists $n flags"
fi

# Shell scripts.
for f in deploy/*.sh; do
	if sh -n "$f"; then ok "sh -n $f"; else fail "sh -n $f"; fi
done
if have shellcheck; then
	if shellcheck deploy/*.sh; then ok "shellcheck deploy/*.sh"; else fail "shellcheck deploy/*.sh"; fi
else
	skip "shellcheck (not installed)"
fi

# YAML, flags, ports, docs: python3 with PyYAML.
if ! have python3 || ! python3 -c 'import yaml' 2>/dev/null; then
	fail "python3 with PyYAML is needed (apt-get install python3-yaml)"
else
	rendered=""
	if have kubectl; then
		if kubectl kustomize deploy/k8s >"$tmp/k8s.yaml" 2>"$tmp/kustomize.log"; then
			ok "kubectl kustomize deploy/k8s"
			rendered=$tmp/k8s.yaml
		else
			cat "$tmp/kustomize.log"
			fail "kubectl kustomize deploy/k8s"
		fi
	else
		skip "kubectl kustomize (kubectl not installed): checking deploy/k8s/*.yaml as they are"
	fi
	if ! python3 - "$bin" "$tmp/flags.txt" "$rendered" "$tmp/pyfails" <<'PY'; then
import glob, os, re, shlex, subprocess, sys
import yaml

binary, flags_file, rendered, fails_file = sys.argv[1:5]
serve_flags = set(open(flags_file).read().split())
fails = 0


def ok(msg):
    print("ok    " + msg)


def fail(msg):
    global fails
    fails += 1
    print("FAIL  " + msg)


def load_all(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


# Every YAML file parses.
docs = {}
for path in sorted(glob.glob("deploy/*.yaml") + glob.glob("deploy/*.yml") + glob.glob("deploy/k8s/*.yaml")):
    try:
        docs[path] = load_all(path)
        ok("yaml %s (%d documents)" % (path, len(docs[path])))
    except yaml.YAMLError as e:
        fail("yaml %s: %s" % (path, e))

FLAG = re.compile(r"^--?([a-z0-9][a-z0-9-]*)(=.*)?$")


def flags_of(args):
    """The flags of a serve command line (args after "serve"), as
    (name, value or None) in order. A flag without "=" takes the next
    argument as its value unless it is a boolean one; here only -cluster,
    -record-audio and -secure-cookies are."""
    out, i = [], 0
    booleans = {"cluster", "record-audio", "secure-cookies", "h", "help"}
    while i < len(args):
        m = FLAG.match(args[i])
        if not m:
            out.append((None, args[i]))
            i += 1
            continue
        name, val = m.group(1), m.group(2)
        if val is not None:
            out.append((name, val[1:]))
        elif name in booleans or i + 1 >= len(args):
            out.append((name, None))
        else:
            out.append((name, args[i + 1]))
            i += 1
        i += 1
    return out


def check_flags(where, args):
    """Every flag is one of serve's, none twice, no stray argument."""
    good = True
    seen = set()
    for name, val in flags_of(args):
        if name is None:
            fail("%s: argument %r is not a flag" % (where, val))
            good = False
        elif name not in serve_flags:
            fail("%s: -%s is not a flag of talkratio serve" % (where, name))
            good = False
        elif name in seen:
            fail("%s: -%s given twice" % (where, name))
            good = False
        seen.add(name)
    if good:
        ok("%s: %d flags, all talkratio serve's" % (where, len(seen)))
    return good


def dry_run(where, args, env=None):
    """serve parses the flags and runs its cluster checks, then stops at
    the log level, which comes next (before any database or port)."""
    e = {k: v for k, v in os.environ.items() if not k.startswith("TALKRATIO_")}
    e.update(env or {})
    try:
        p = subprocess.run([binary, "serve"] + args + ["-log-level=check-only"], env=e,
                           capture_output=True, text=True, timeout=20)
    except subprocess.TimeoutExpired:
        fail("%s: serve did not stop at -log-level check-only within 20 s" % where)
        return
    if p.returncode == 2 and '-log-level "check-only"' in p.stderr:
        ok("%s: serve accepts the command line (flags parsed, cluster checks passed)" % where)
    else:
        fail("%s: serve refuses it (exit %d): %s" % (where, p.returncode, (p.stderr.strip().splitlines() or [""])[0]))


# compose.yaml: the serve nodes.
compose = (docs.get("deploy/compose.yaml") or [None])[0]
envx = {}
for line in open("deploy/.env.example"):
    line = line.strip()
    if line and not line.startswith("#") and "=" in line:
        k, v = line.split("=", 1)
        envx[k] = v


def interpolate(s):
    """${VAR}, ${VAR:-default}, ${VAR:?message} from .env.example."""
    def sub(m):
        name, op, arg = m.group(1), m.group(2), m.group(3)
        if name in envx and envx[name] != "":
            return envx[name]
        if op == ":-":
            return arg
        fail("compose: ${%s} is neither in .env.example nor defaulted" % name)
        return ""
    s = re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:-|:\?|-|\?)([^}]*))?\}", sub, s)
    return s.replace("$$", "$")


if compose:
    nodes = {n: s for n, s in compose.get("services", {}).items()
             if isinstance(s.get("command"), list) and s["command"][:1] == ["serve"]}
    if len(nodes) < 2:
        fail("compose: %d serve nodes, want several" % len(nodes))
    ids, ice = {}, {}
    for name, svc in sorted(nodes.items()):
        args = [interpolate(str(a)) for a in svc["command"][1:]]
        where = "compose %s" % name
        if check_flags(where, args):
            dry_run(where, args)
        fl = dict((k, v) for k, v in flags_of(args) if k)
        ports = [str(p) for p in svc.get("ports", [])]
        nid = fl.get("node-id")
        if not nid:
            fail("%s: no -node-id" % where)
        elif nid in ids:
            fail("%s: -node-id %s is also %s's" % (where, nid, ids[nid]))
        ids[nid] = name
        port = fl.get("ice-port")
        if not port:
            fail("%s: no -ice-port (media on one known UDP port is what can be published)" % where)
        else:
            if port in ice:
                fail("%s: -ice-port %s is also %s's" % (where, port, ice[port]))
            ice[port] = name
            if not any(re.fullmatch(r"(?:[0-9.]+:)?%s:%s/udp" % (port, port), p) for p in ports):
                fail("%s: -ice-port %s is not published as %s:%s/udp (the port announced must be the host's)" % (where, port, port, port))
            else:
                ok("%s: media on UDP %s, published as is" % (where, port))
        nurl = fl.get("node-url", "")
        m = re.match(r"^https?://[^/]+:(\d+)/?$", nurl)
        if not m:
            fail("%s: -node-url %r: want http://HOST:PORT" % (where, nurl))
        elif not any(re.fullmatch(r"(?:[0-9.]+:)?%s:8080(?:/tcp)?" % m.group(1), p) for p in ports):
            fail("%s: -node-url port %s is not published to the node's HTTP port 8080" % (where, m.group(1)))
        else:
            ok("%s: -node-url %s reaches its HTTP port" % (where, nurl))
    for dep in ("postgres", "nats", "minio-init", "caddy"):
        if dep not in compose.get("services", {}):
            fail("compose: no %s service" % dep)

# k8s: the Deployment's serve containers.
k8s_docs = []
if rendered:
    k8s_docs = [("kustomize", d) for d in load_all(rendered)]
else:
    for path in sorted(glob.glob("deploy/k8s/*.yaml")):
        k8s_docs += [(path, d) for d in docs.get(path, [])]
sample = {"POD_NAME": "talkratio-5d8f7c9b4-x2x7q", "POD_IP": "10.244.1.7", "HOST_IP": "10.0.0.11"}
secret_values = {}
for d in (docs.get("deploy/k8s/secrets.template.yaml") or []):
    for k, v in (d.get("stringData") or {}).items():
        secret_values[(d["metadata"]["name"], k)] = v
config_values = {}
for src, d in k8s_docs:
    if d.get("kind") == "ConfigMap":
        for k, v in (d.get("data") or {}).items():
            config_values[(d["metadata"]["name"], k)] = v
found = 0
for src, d in k8s_docs:
    if d.get("kind") not in ("Deployment", "StatefulSet", "DaemonSet"):
        continue
    for c in d["spec"]["template"]["spec"].get("containers", []):
        args = list(c.get("command") or [])[1:] + list(c.get("args") or [])
        if args[:1] != ["serve"]:
            continue
        found += 1
        where = "k8s %s/%s" % (d["metadata"]["name"], c["name"])
        env = {}
        for e in c.get("env", []):
            if "value" in e:
                env[e["name"]] = e["value"]
            else:
                vf = e.get("valueFrom", {})
                if "secretKeyRef" in vf:
                    r = vf["secretKeyRef"]
                    env[e["name"]] = secret_values.get((r["name"], r["key"]))
                    if env[e["name"]] is None:
                        fail("%s: env %s: Secret %s has no key %s in secrets.template.yaml" % (where, e["name"], r["name"], r["key"]))
                elif "configMapKeyRef" in vf:
                    r = vf["configMapKeyRef"]
                    env[e["name"]] = config_values.get((r["name"], r["key"]))
                    if env[e["name"]] is None:
                        fail("%s: env %s: ConfigMap %s has no key %s" % (where, e["name"], r["name"], r["key"]))
                else:
                    env[e["name"]] = sample.get(e["name"], "x")
        undefined = sorted({v for a in args for v in re.findall(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", a)} - set(env))
        if undefined:
            fail("%s: args use $(%s), not in the container's env" % (where, "), $(".join(undefined)))
        expanded = [re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: str(env.get(m.group(1)) or ""), a) for a in args[1:]]
        if check_flags(where, args[1:]):
            dry_run(where, expanded)
        fl = dict((k, v) for k, v in flags_of(args[1:]) if k)
        port = fl.get("ice-port")
        udp = [p for p in c.get("ports", []) if p.get("protocol") == "UDP"]
        if not port:
            fail("%s: no -ice-port" % where)
        elif not any(str(p.get("containerPort")) == port and str(p.get("hostPort")) == port for p in udp):
            fail("%s: -ice-port %s is not a UDP containerPort with the same hostPort" % (where, port))
        else:
            ok("%s: media on UDP %s, the node's hostPort" % (where, port))
        for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/livez")):
            got = (c.get(probe) or {}).get("httpGet", {}).get("path")
            if got != path:
                fail("%s: %s on %r, want %s" % (where, probe, got, path))
if found == 0:
    fail("k8s: no container runs talkratio serve")

# docs/cluster.md: flags and routes; its `talkratio serve` command lines.
routes = set()
for path in glob.glob("server/*.go") + glob.glob("whip/*.go"):
    if path.endswith("_test.go"):
        continue
    for m in re.finditer(r'(?:handle|Handle|HandleFunc)\("(?:[A-Z]+ )?(/[^"]*)"', open(path).read()):
        routes.add(m.group(1))


def seg_match(pat, path):
    ps, xs = pat.strip("/").split("/"), path.strip("/").split("/")
    if pat.endswith("{$}"):
        return path == "/"
    if pat.endswith("/") and len(xs) >= len(ps):
        xs = xs[:len(ps)]
    if len(ps) != len(xs):
        return False
    return all(p == x or (p.startswith("{") and p.endswith("}")) or (x.startswith("{") and x.endswith("}") and p.startswith("{"))
               for p, x in zip(ps, xs))


first_segments = {r.strip("/").split("/")[0] for r in routes if r.strip("/")}
doc = "docs/cluster.md"
if not os.path.exists(doc):
    fail("%s is missing" % doc)
else:
    text = open(doc).read()
    body = re.sub(r"```.*?```", "", text, flags=re.S)
    nflags = nroutes = 0
    for span in re.findall(r"`([^`\n]+)`", body):
        tok = span.split()[0]
        m = FLAG.match(tok)
        if m and tok.startswith("-"):
            nflags += 1
            if m.group(1) not in serve_flags:
                fail("%s: `%s`: -%s is not a flag of talkratio serve" % (doc, span, m.group(1)))
        if tok.startswith("/"):
            p = tok.split("?")[0]
            if p.strip("/").split("/")[0] in first_segments:
                nroutes += 1
                if not any(seg_match(r, p) for r in routes):
                    fail("%s: `%s` is not a route of the server" % (doc, span))
    ok("%s: %d backquoted flags and %d routes checked" % (doc, nflags, nroutes))
    n = 0
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S):
        joined = re.sub(r"\\\n", " ", block)
        for line in joined.splitlines():
            line = line.split(" #")[0].strip()
            m = re.search(r"(?:^|\s)\S*talkratio serve(\s.*)?$", line)
            if not m:
                continue
            n += 1
            args = shlex.split(m.group(1) or "")
            args = [a for a in args if a not in ("&",)]
            where = "%s: serve command %d" % (doc, n)
            if check_flags(where, args):
                dry_run(where, args)
    if n == 0:
        fail("%s: no talkratio serve command in its sh blocks" % doc)

open(fails_file, "w").write("%d\n" % fails)
sys.exit(1 if fails else 0)
PY
		if [ -s "$tmp/pyfails" ]; then
			fails=$((fails + $(cat "$tmp/pyfails")))
		else
			fail "the YAML, flag and docs checks (python3) stopped"
		fi
	fi
fi

# .dockerignore.
for line in deploy/.env deploy/certs/; do
	if grep -qxF "$line" .dockerignore; then ok ".dockerignore leaves out $line"; else fail ".dockerignore does not leave out $line"; fi
done

# make-certs.sh: a CA and certificates that verify, with NATS's names.
if have openssl; then
	if NAMESPACE=talkratio deploy/make-certs.sh "$tmp/certs" >"$tmp/certs.log" 2>&1; then
		c=$tmp/certs
		if openssl verify -CAfile "$c/ca.pem" "$c/nats-server.pem" "$c/talkratio-client.pem" >/dev/null 2>&1 &&
			openssl verify -purpose sslserver -CAfile "$c/ca.pem" "$c/nats-server.pem" >/dev/null 2>&1 &&
			openssl verify -purpose sslclient -CAfile "$c/ca.pem" "$c/nats-server.pem" "$c/talkratio-client.pem" >/dev/null 2>&1; then
			ok "make-certs.sh: the certificates verify against the CA, for their purposes"
		else
			fail "make-certs.sh: the certificates do not verify against the CA"
		fi
		sans=$(openssl x509 -in "$c/nats-server.pem" -noout -text | grep -A1 'Subject Alternative Name' | tail -1)
		# "DNS:nats," with its comma: the name itself, not a longer one.
		for name in "DNS:nats," "DNS:nats.talkratio.svc.cluster.local," "DNS:*.nats-headless.talkratio.svc.cluster.local," "DNS:localhost,"; do
			case "$sans" in
			*"$name"*) ;;
			*) fail "make-certs.sh: the NATS server certificate does not name ${name%,}" ;;
			esac
		done
	else
		cat "$tmp/certs.log"
		fail "make-certs.sh"
	fi
else
	skip "make-certs.sh (openssl not installed)"
fi

# Optional tools: the configurations as their programs read them.
if have nats-server && [ -e "$tmp/certs/ca.pem" ]; then
	sed "s#/certs/#$tmp/certs/#g" deploy/nats.conf >"$tmp/nats.conf"
	if NATS_PASSWORD=check nats-server -t -c "$tmp/nats.conf" >"$tmp/nats.log" 2>&1; then
		ok "nats-server -t deploy/nats.conf"
	else
		cat "$tmp/nats.log"
		fail "nats-server -t deploy/nats.conf"
	fi
	if python3 -c 'import yaml' 2>/dev/null; then
		python3 - "$tmp" <<'PY'
import sys, yaml
tmp = sys.argv[1]
for d in yaml.safe_load_all(open("deploy/k8s/nats.yaml")):
    if d and d.get("kind") == "ConfigMap" and "nats.conf" in d.get("data", {}):
        open(tmp + "/nats-k8s.conf", "w").write(d["data"]["nats.conf"].replace("/etc/nats/tls/", tmp + "/certs/"))
PY
		if POD_NAME=nats-0 NATS_PASSWORD=check nats-server -t -c "$tmp/nats-k8s.conf" >"$tmp/nats.log" 2>&1; then
			ok "nats-server -t on deploy/k8s/nats.yaml's nats.conf"
		else
			cat "$tmp/nats.log"
			fail "nats-server -t on deploy/k8s/nats.yaml's nats.conf"
		fi
	fi
else
	skip "nats-server -t (nats-server not installed)"
fi
if have caddy; then
	if caddy adapt --config deploy/Caddyfile --adapter caddyfile >/dev/null 2>"$tmp/caddy.log"; then
		ok "caddy adapt deploy/Caddyfile"
	else
		cat "$tmp/caddy.log"
		fail "caddy adapt deploy/Caddyfile"
	fi
else
	skip "caddy adapt (caddy not installed)"
fi
if have docker && docker compose version >/dev/null 2>&1; then
	if docker compose -f deploy/compose.yaml --env-file deploy/.env.example config -q 2>"$tmp/compose.log"; then
		ok "docker compose config deploy/compose.yaml"
	else
		cat "$tmp/compose.log"
		fail "docker compose config deploy/compose.yaml"
	fi
else
	skip "docker compose config (docker compose not installed)"
fi

if [ "$fails" -gt 0 ]; then
	echo "$fails problem(s)"
	exit 1
fi
echo "deploy/check.sh: all checks passed"
