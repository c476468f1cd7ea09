"""Fine-tuning: datasets, the trainer, job runners and adapter conversion."""
