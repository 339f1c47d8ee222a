"""What the daily check finds: the reminder ladders and the grounds for proposals.

Each module here reads the rows of one kind of case and either queues the letters
of its reminder ladder (models/reminder_ladder.py) or returns the grounds that
tasks/proposals.py stores. They are plain functions of a session and a day, run
inside the daily check's tasks (tasks/compliance_checks.py), not tasks of their own.
"""
