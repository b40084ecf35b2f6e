"""The Gradio front end (one module per tab or tab group); it reaches the service only over its HTTP API."""
