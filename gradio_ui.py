"""Gradio UI for every tool and for watching/cancelling tasks.

Not built yet: a later issue mounts a gr.Blocks app here inside the Serve application; it will talk to the
HTTP API, not to the database.
"""
