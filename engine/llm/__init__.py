"""Local language models through llama.cpp: the runtime, the host, prompts, the GPU and remote inference."""
