"""
Imported at start by every Python function process of the wsgate emulator (this folder is first on PYTHONPATH):
connections to the emulator's hosts (`<apiId>.execute-api.<region>.amazonaws.com`, the events' domainName, and the
other hosts the emulator answers) go to the emulator on 127.0.0.1, so an unmodified handler's boto3
`apigatewaymanagementapi` client reaches the local @connections endpoint. Only the address lookup changes: TLS SNI
and the Host header keep the original name. AWS_CA_BUNDLE / REQUESTS_CA_BUNDLE point at a bundle of certifi's
roots plus the emulator's certificate (WSGATE_CA_FILE), so HTTPS to other hosts still verifies.

WSGATE_REDIRECT_HOSTS: comma-separated host names, `*.` wildcards allowed; WSGATE_REDIRECT_PORT: emulator port.
"""
import hashlib
import os
import socket
import tempfile


def _trust_emulator():
    ca_file = os.environ.get("WSGATE_CA_FILE")
    if not ca_file or not os.path.exists(ca_file):
        return
    bundle = ca_file
    try:
        import certifi  # botocore and requests verify against it when no bundle is set

        with open(certifi.where(), "rb") as roots, open(ca_file, "rb") as local:
            data = roots.read() + b"\n" + local.read()
        bundle = os.path.join(tempfile.gettempdir(), "wsgate-ca-%s.pem" % hashlib.sha256(data).hexdigest()[:16])
        if not os.path.exists(bundle):
            partial = "%s.%d" % (bundle, os.getpid())
            with open(partial, "wb") as out:
                out.write(data)
            os.replace(partial, bundle)
    except Exception:  # noqa: BLE001 - without certifi, only the emulator's certificate is trusted
        bundle = ca_file
    os.environ.setdefault("AWS_CA_BUNDLE", bundle)
    os.environ.setdefault("REQUESTS_CA_BUNDLE", bundle)


def _install():
    patterns = [h.strip().lower() for h in os.environ.get("WSGATE_REDIRECT_HOSTS", "").split(",") if h.strip()]
    try:
        port = int(os.environ.get("WSGATE_REDIRECT_PORT", ""))
    except ValueError:
        return
    if not patterns or port <= 0:
        return
    bare = [p.rsplit(":", 1)[0] if p.rsplit(":", 1)[-1].isdigit() else p for p in patterns]

    def matches(host):
        if not isinstance(host, str):
            host = host.decode("ascii", "replace") if isinstance(host, bytes) else str(host or "")
        name = host.lower().rstrip(".")
        for pattern in bare:
            if pattern.startswith("*."):
                if name.endswith(pattern[1:]) and len(name) > len(pattern) - 1:
                    return True
            elif name == pattern:
                return True
        return False

    original = socket.getaddrinfo

    def getaddrinfo(host, service, family=0, type=0, proto=0, flags=0):
        if host is not None and matches(host):
            return original("127.0.0.1", port, socket.AF_INET, type, proto, flags)
        return original(host, service, family, type, proto, flags)

    socket.getaddrinfo = getaddrinfo


_trust_emulator()
_install()
