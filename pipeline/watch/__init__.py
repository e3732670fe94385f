"""Unattended running: the scheduler of crawls, reports and retraining (``schedule``), the
alert rules (``alerts``) and their delivery by e-mail or webhook (``notify``)."""
