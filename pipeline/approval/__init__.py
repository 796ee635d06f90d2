"""Approval: legal review (telaah hukum) and the ordered paraf stamped on every page."""
