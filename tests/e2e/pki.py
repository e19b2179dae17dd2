"""
pki: certificates for the TLS tests, made with the openssl command in a
directory of the caller's (nothing is committed).

    pki = Pki(tmp_dir)
    ca = pki.ca("Test CA")                                    # {"cert", "key"}
    site = pki.leaf(ca, "site", ["example.com", "www.example.com"])
    client = pki.leaf(ca, "client1", client=True)

Leaves are signed by the given CA, carry the names as subjectAltName DNS
entries (none given: no SAN at all, the common name only), and are valid
for a day.
"""

import subprocess
from pathlib import Path


def _run(*args):
    subprocess.run(["openssl"] + [str(a) for a in args], check=True,
                   capture_output=True, timeout=60)


class Pki:
    def __init__(self, directory):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self._serial = 1000

    def _paths(self, name):
        return self.dir / (name + ".pem"), self.dir / (name + ".key")

    def ca(self, name):
        cert, key = self._paths(name.replace(" ", "_"))
        _run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-keyout", key, "-out", cert, "-days", "1",
             "-subj", "/O=portico tests/CN=%s" % name,
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        return {"cert": str(cert), "key": str(key)}

    def leaf(self, ca, name, dns=None, client=False):
        cert, key = self._paths(name)
        csr = self.dir / (name + ".csr")
        ext = self.dir / (name + ".ext")
        lines = ["basicConstraints=CA:FALSE",
                 "extendedKeyUsage=%s" % ("clientAuth" if client else "serverAuth")]
        if dns:
            lines.append("subjectAltName=" + ",".join("DNS:" + d for d in dns))
        ext.write_text("\n".join(lines) + "\n")
        _run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", key, "-out", csr, "-subj", "/O=portico tests/CN=%s" % name)
        self._serial += 1
        _run("x509", "-req", "-in", csr, "-CA", ca["cert"], "-CAkey", ca["key"],
             "-set_serial", self._serial, "-days", "1", "-out", cert, "-extfile", ext)
        return {"cert": str(cert), "key": str(key), "serial": self._serial}
