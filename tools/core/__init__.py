"""The floor everything stands on: errors a user can act on, text made safe for where it is
shown, and files written whole. Imports nothing of the project."""
