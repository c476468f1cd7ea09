"""Models that run elsewhere: any OpenAI-compatible endpoint, or llama-server that Bunko
starts on the user's GPU server over SSH and reaches through a port-forward."""
