"""The OpenAI-compatible HTTP backend (``openai:URL#MODEL``): the client (``client``), the wire
format of requests and replies (``wire``), the retry policy (``retry``) and the local server
launcher (``launcher``)."""
