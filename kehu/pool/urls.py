app_name = "pool"
urlpatterns = []
