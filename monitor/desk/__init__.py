"""The analyst's desk without the web: what its pages and its JSON API (``monitor.web``) read
(``queries``), the feedback they write (``feedback``), the exports (``export``), the API's OpenAPI
document (``openapi``). Plain functions of a ``Store`` and settings; the command line uses them too."""
