"""Procedures: definitions as data, applications as an action journal, tasks and prefill."""
