"""The OCR worker: a child process that renders and reads pages of one file at a time.

PDF rendering (pdfium) and the OCR models are native code run on the user's
files; here a crash, an abort or a hang ends this process only, and the
indexer reports the file and goes on (client.py).

Protocol on stdin/stdout, one JSON line per message, a binary payload after
a line that announces its `size`:
  {"op": "open", "kind": "pdf"|"image", "size": N} + N bytes -> {"pages": T}
  {"op": "read", "page": n}                                   -> PageText as JSON
  {"op": "render", "page": n, "max_side": S}                  -> {"size": N} + PNG bytes
Any failure of a request is answered {"error": "words for a person"}.
"""

from __future__ import annotations

import io
import json
import os
import sys

PDF_DPI = 200  # scans are read at this resolution (capped by page.MAX_SIDE)
MAX_MEGAPIXELS = 80  # Pillow refuses pictures larger than this (decompression bombs)


class Source:
    """An open file: its pages as images."""

    def __init__(self, kind: str, data: bytes) -> None:
        from PIL import Image

        Image.MAX_IMAGE_PIXELS = MAX_MEGAPIXELS * 1_000_000 // 2  # over twice this raises
        self.kind = kind
        if kind == "pdf":
            import pypdfium2 as pdfium

            try:
                self.pdf = pdfium.PdfDocument(data)
            except pdfium.PdfiumError as exc:
                raise ValueError(f"the PDF cannot be opened for OCR ({exc})") from exc
            self.count = len(self.pdf)
        else:
            try:
                self.image = Image.open(io.BytesIO(data))
                self.count = getattr(self.image, "n_frames", 1)
            except Image.DecompressionBombError as exc:
                raise ValueError(f"the picture is too large (more than {MAX_MEGAPIXELS} megapixels)") from exc
            except Exception as exc:  # Pillow's UnidentifiedImageError, truncated files, ...
                raise ValueError("the picture cannot be decoded (damaged or not an image)") from exc

    def page(self, number: int, max_side: int):
        from PIL import Image

        if not 1 <= number <= self.count:
            raise ValueError(f"there is no page {number}")
        if self.kind == "pdf":
            page = self.pdf[number - 1]
            w, h = page.get_size()
            scale = min(PDF_DPI / 72, max_side / max(w, h, 1))
            return page.render(scale=scale, grayscale=False).to_pil()
        try:
            self.image.seek(number - 1)
            frame = self.image.copy()
            frame.load()
        except Image.DecompressionBombError as exc:
            raise ValueError(f"the picture is too large (more than {MAX_MEGAPIXELS} megapixels)") from exc
        except Exception as exc:
            raise ValueError(f"page {number} of the picture cannot be decoded (damaged?)") from exc
        return frame


def serve(inp, out, threads: int) -> None:
    from .page import MAX_SIDE, Reader, cap

    reader: Reader | None = None
    source: Source | None = None

    def reply(obj: dict, payload: bytes | None = None) -> None:
        out.write((json.dumps(obj, ensure_ascii=False) + "\n").encode())
        if payload is not None:
            out.write(payload)
        out.flush()

    while True:
        line = inp.readline()
        if not line:
            return
        request = json.loads(line)
        op = request.get("op")
        try:
            if op == "open":
                data = inp.read(request["size"])
                source = None
                source = Source(request["kind"], data)
                reply({"pages": source.count})
            elif op == "read":
                if source is None:
                    raise ValueError("no file is open")
                if reader is None:
                    reader = Reader(threads)
                if os.environ.get("BUNKO_OCR_TEST_CRASH") == str(request["page"]):
                    os.abort()  # for the tests of containment: native code dying mid-page
                reply(reader.read(source.page(request["page"], MAX_SIDE)).to_json())
            elif op == "render":
                if source is None:
                    raise ValueError("no file is open")
                image = cap(source.page(request["page"], request.get("max_side", 1400)))
                if request.get("rotation"):
                    image = image.rotate(-request["rotation"], expand=True)
                side = request.get("max_side", 1400)
                if max(image.size) > side:
                    image.thumbnail((side, side))
                buf = io.BytesIO()
                image.save(buf, "PNG")
                reply({"size": buf.tell()}, buf.getvalue())
            elif op == "close":
                source = None
                reply({"closed": True})
            else:
                reply({"error": f"unknown request {op!r}"})
        except ValueError as exc:
            reply({"error": str(exc)})
        except MemoryError:
            reply({"error": "the page needed more memory than there is"})
        except Exception as exc:  # noqa: BLE001 - a library's surprise on one page
            reply({"error": f"the page could not be read ({type(exc).__name__}: {exc})"})


def main() -> None:
    threads = int(os.environ.get("BUNKO_OCR_THREADS", "0")) or min(4, os.cpu_count() or 1)
    serve(sys.stdin.buffer, sys.stdout.buffer, threads)


if __name__ == "__main__":
    main()
