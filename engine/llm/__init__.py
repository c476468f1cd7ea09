"""Local language models through llama.cpp: model files, the runtime, prompts and chat."""
