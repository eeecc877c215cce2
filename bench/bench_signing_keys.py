"""Issuance with the key in a PKCS#11 token (SoftHSM2) against the key in a file, in one run.

    .venv/bin/python bench/bench_signing_keys.py [-n 30]

Same process, same certificates, same root: the file key and a SoftHSM2 token
holding a key certified by that root (and a QR seal key in each). Measures, in
turns so that both see the same machine load: the QR payload signature alone,
the PDF signature alone (pyHanko PAdES B-B), and an issuance's signing work and
rendering (QR payload + render + PDF signature). Prints the table and the ratios
(docs/benchmarks.md, "Signing key in an HSM"). Needs Debian's softhsm2.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=30, help="timed runs per measure and key (default 30)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="damane-bench-hsm-"))
    sys.path.insert(0, str(ROOT))
    from tests.hsm import SOFTHSM_MODULE, init_token, softhsm_directory

    softhsm_directory(work / "softhsm")  # before the library is loaded
    init_token("bench", work / "pin")
    os.environ["DAMANE_SIGNING_DIR"] = str(work / "file")
    os.environ["DAMANE_TSA_URL"] = ""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "damane.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import override_settings

    from certificates import qrpayload, signing
    from certificates.qrpayload import qr_claims, qr_url, sign_qr_payload
    from certificates.rendering import render_certificate_pdf
    from certificates.samples import all_samples

    file_dir = work / "file"
    signing.create_dev_pki(file_dir)
    signing.create_qr_key(file_dir / "qr-keys")
    token_dir = work / "token"
    token_dir.mkdir()
    for name in ("root-ca-key.pem", "root-ca.pem", "root-ca.crl"):
        (token_dir / name).write_bytes((file_dir / name).read_bytes())

    def config(directory: Path, **extra):
        return override_settings(
            DAMANE_SIGNING_DIR=directory,
            DAMANE_SIGNING_KEY_PATH=directory / "signing-key.pem",
            DAMANE_SIGNING_CERT_PATH=directory / "signing-cert.pem",
            DAMANE_SIGNING_CHAIN_PATHS=[directory / "root-ca.pem"],
            DAMANE_QR_KEYS_DIR=directory / "qr-keys",
            DAMANE_SIGNING_CRL_PATH=str(directory / "root-ca.crl"),
            DAMANE_SIGNING_AUTO_CREATE=False,
            DAMANE_SIGNING_PKCS11_MODULE=extra.get("module", ""),
            DAMANE_SIGNING_PKCS11_TOKEN_LABEL="bench",
            DAMANE_SIGNING_PKCS11_KEY_LABEL="damane-signing",
            DAMANE_SIGNING_PKCS11_PIN_FILE=str(work / "pin"),
        )

    with config(token_dir, module=SOFTHSM_MODULE):
        call_command("init_signing", "--pkcs11", stdout=open(os.devnull, "w"))  # noqa: SIM115

    samples = all_samples()
    unsigned = [render_certificate_pdf(s, qr_payload_url=qr_url(s.public_id, "DMN2.x")) for s in samples]

    def qr(i):
        return sign_qr_payload(qr_claims(samples[i % len(samples)]))

    def pdf(i):
        return signing.sign_pdf(unsigned[i % len(unsigned)])

    def issue(i):
        snapshot = samples[i % len(samples)]
        token = sign_qr_payload(qr_claims(snapshot))
        return signing.sign_pdf(render_certificate_pdf(snapshot, qr_payload_url=qr_url(snapshot.public_id, token)))

    keys = {"file": config(file_dir), "token (SoftHSM2)": config(token_dir, module=SOFTHSM_MODULE)}
    results: dict[tuple[str, str], list[float]] = {}
    for name, function in (
        ("QR payload signature", qr),
        ("PDF signature (B-B)", pdf),
        ("issue: QR + render + PDF", issue),
    ):
        for key in keys:  # first calls (session, key look-up, stamp) apart
            with keys[key]:
                qrpayload.reset_key_cache()
                signing.reset_material_cache()
                function(0)
        for i in range(args.n):
            for key in keys:  # in turns: the same load for both
                with keys[key]:
                    start = time.perf_counter()
                    function(i)
                    results.setdefault((name, key), []).append((time.perf_counter() - start) * 1000)
    print(f"{'measure':<28} {'key':<18} {'median ms':>10} {'p95 ms':>8}")
    for (name, key), timings in results.items():
        timings.sort()
        p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
        print(f"{name:<28} {key:<18} {statistics.median(timings):>10.2f} {p95:>8.2f}")
    for name in dict.fromkeys(n for n, _k in results):
        file_median = statistics.median(results[(name, "file")])
        token_median = statistics.median(results[(name, "token (SoftHSM2)")])
        print(f"ratio token/file, {name}: {token_median / file_median:.2f}")
    subprocess.run(["rm", "-rf", str(work)], check=False)


if __name__ == "__main__":
    main()
