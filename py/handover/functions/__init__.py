"""The Serverless project's JavaScript: generating what Python owns (the contract asset) and validating every file."""
