"""
Imported at start by every Python function process of the wsgate emulator (this folder is first on PYTHONPATH):
connections to the emulator's hosts (`<apiId>.execute-api.<region>.amazonaws.com`, the events' domainName, and the
other hosts the emulator answers) go to the emulator on 127.0.0.1, so an unmodified handler's boto3
`apigatewaymanagementapi` client reaches the local @connections endpoint. Only the address lookup changes: TLS SNI
and the Host header keep the original name, and AWS_CA_BUNDLE / REQUESTS_CA_BUNDLE trust the emulator's certificate.

WSGATE_REDIRECT_HOSTS: comma-separated host names, `*.` wildcards allowed; WSGATE_REDIRECT_PORT: emulator port.
"""
import os
import socket


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


_install()
