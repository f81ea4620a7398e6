"""kernelflow gateway: litellm-based OpenAI-compatible LLM gateway."""
