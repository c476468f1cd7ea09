"""Answering: the chat service, stored conversations, prompts, citations and attribution."""
