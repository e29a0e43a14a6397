"""Physical-layer, semantic-layer and traffic models shared by the scenarios: pure, vectorised numpy functions."""

from semcom_envs.physics import radio, semantics, traffic

__all__ = ["radio", "semantics", "traffic"]
