"""Hosts Bunko runs things on: this computer, or a server over SSH (trainers, llama-server)."""
