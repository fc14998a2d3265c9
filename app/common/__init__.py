"""Code both services share: configuration, identity, errors, logging, AWS clients, OpenAPI."""
