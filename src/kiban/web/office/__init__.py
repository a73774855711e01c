"""The back office, the officials' audience: sign-in, residents and certificates, task queues
and applications."""
