"""Code that every service of the workshop shares."""
