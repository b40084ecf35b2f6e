"""The Gradio UI on its own, against any audiomuse-ray server:

    python gradio_ui.py --api http://host:8000 [--host 127.0.0.1] [--port 7860]

With AUDIOMUSE_API_TOKEN set it asks for a login (the token is the password) and sends it to the API as
``Authorization: Bearer``. Inside ``audiomuse-ray serve`` the same UI is served at the server's root.
"""

from __future__ import annotations

import argparse
import os


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--api", default=os.environ.get("AUDIOMUSE_API_URL", "http://127.0.0.1:8000"),
                   help="the audiomuse-ray server (AUDIOMUSE_API_URL)")
    p.add_argument("--host", default="127.0.0.1", help="address the UI binds to")
    p.add_argument("--port", type=int, default=7860, help="port of the UI")
    args = p.parse_args(argv)

    import uvicorn
    from fastapi import FastAPI

    from audiomuse_ray.ui.app import UiOptions, mount

    app = mount(FastAPI(docs_url=None, redoc_url=None, openapi_url=None),
                UiOptions(args.api, os.environ.get("AUDIOMUSE_API_TOKEN", "")))
    print(f"audiomuse-ray UI on http://{args.host}:{args.port} (API: {args.api})", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
