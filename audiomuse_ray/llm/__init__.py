"""Large-language-model clients (Ollama, Gemini, Mistral, any OpenAI-compatible server) over plain HTTP."""
