"""The offline verifier after one visit: its service worker serves the page and its data with the server
gone and the network cut; the camera path reads a real certificate's QR code from a fake video stream."""

import pytest
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.test.testcases import LiveServerThread
from PIL import Image
from playwright.sync_api import sync_playwright

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-gpu",
]


class _ServerThread(LiveServerThread):
    """A live server of this test's own, so that the test can stop it: the network is then really gone."""


@pytest.fixture
def own_server(monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    thread = _ServerThread("127.0.0.1", StaticFilesHandler, port=0)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    yield thread
    thread.terminate()


def write_y4m(path, image: Image.Image, frames: int = 5):
    """A YUV4MPEG2 (4:2:0) video of ``image``: Chromium's fake camera plays it in a loop."""
    gray = image.convert("L")
    width, height = gray.size
    luma = gray.tobytes()
    chroma = bytes([128]) * ((width // 2) * (height // 2))
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n" + luma + chroma + chroma)


def test_the_page_opens_and_verifies_with_no_network_after_one_visit(certificate, qr_text, own_server):
    url = f"http://127.0.0.1:{own_server.port}/verify/offline/"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 390, "height": 844})
            page = context.new_page()
            page.goto(url)
            page.wait_for_selector("#offline-verifier[data-offline-ready-state=ready]")
            page.wait_for_selector("#sync-status:not(:empty)")
            # The server stops and the network is cut before the page is opened again.
            own_server.terminate()
            context.set_offline(True)
            page.reload()
            page.wait_for_selector("#sync-status:not(:empty)")
            assert page.evaluate("() => navigator.serviceWorker.controller !== null")
            assert page.evaluate("() => navigator.onLine") is False
            page.fill("#payload", qr_text)
            page.click("#offline-form button[type=submit]")
            page.wait_for_selector("#offline-result:not(.hidden)")
            result = page.inner_text("#offline-result")
            assert "Genuine and valid certificate." in result
            assert certificate.number in result
            assert certificate.valid_until.strftime("%d/%m/%Y") in result
            assert "Checked on" in result
        finally:
            browser.close()


def test_the_camera_reads_a_real_certificate_qr_code_from_a_fake_video_stream(
    certificate, qr_text, own_server, tmp_path
):
    import segno

    qr = segno.make(qr_text, error="m", boost_error=False)
    picture = tmp_path / "qr.png"
    qr.save(str(picture), scale=5, border=4)
    frame = Image.new("L", (640, 480), 255)
    symbol = Image.open(picture).convert("L")
    frame.paste(symbol, ((640 - symbol.width) // 2, (480 - symbol.height) // 2))
    video = tmp_path / "camera.y4m"
    write_y4m(video, frame)
    args = [
        *CHROMIUM_ARGS,
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=args)
        try:
            context = browser.new_context(viewport={"width": 390, "height": 844}, permissions=["camera"])
            page = context.new_page()
            page.goto(f"http://127.0.0.1:{own_server.port}/verify/offline/")
            page.wait_for_selector("#sync-status:not(:empty)")
            page.click("#scan-button")
            page.wait_for_selector("#offline-result:not(.hidden)", timeout=20_000)
            assert page.input_value("#payload") == qr_text
            assert "Genuine and valid certificate." in page.inner_text("#offline-result")
        finally:
            browser.close()
