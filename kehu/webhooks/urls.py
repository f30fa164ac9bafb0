app_name = "webhooks"
urlpatterns = []
