"""Whose turn it is: the tasks waiting on each person, the notifications of the web inbox and the mail
outbox (SMTP), reminders and the daily digest.
"""
