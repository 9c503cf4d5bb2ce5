"""Transactional use cases of the workflows: load a row, ask the rules, fire the machine,
write the new state and its audit entry in one transaction. Routes and sweeps call these."""
