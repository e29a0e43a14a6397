"""Learning agents (PyTorch) behind the same ``Policy`` interface as the baselines."""
