"""Platform workflows as explicit state machines (BTAS inspection, report centre,
delayed-shipping tool, after-sales, operator measures, settlement).

Pure rules and machines live in one module per workflow; ``actions`` holds the
transactional use cases the API and the worker call; ``sweeps`` the automatic actions.
"""

from lvyue.workflows.machine import Conflict, Machine, Refusal, Step, Transition
from lvyue.workflows.rules import Rules

__all__ = ["Conflict", "Machine", "Refusal", "Rules", "Step", "Transition"]
