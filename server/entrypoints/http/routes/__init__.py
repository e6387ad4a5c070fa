"""The API's routes, one module and one router per resource; `app.create_app` includes them."""
