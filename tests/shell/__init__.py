"""The application shell: the command line and the demo."""
