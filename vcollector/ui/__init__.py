"""What a person sees: the console lines of both tools."""
