"""Physical-layer and semantic-layer models shared by all scenarios: pure, vectorised numpy functions."""

from semcom_envs.physics import radio, semantics

__all__ = ["radio", "semantics"]
