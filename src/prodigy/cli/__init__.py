"""Click commands: parse arguments, call one app function, render output."""
