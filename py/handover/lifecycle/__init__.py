"""What happens after the handoff: at the end of the task a handover tool created, TaskRouter's events reach the
deployed `/lifecycle/task-events`, which hands the customer's conversation back to the AI. `wiring.py` points the
workspace's events there, and tells doctor whether they are."""
