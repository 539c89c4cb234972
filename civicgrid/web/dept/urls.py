from django.urls import path

from . import views

app_name = "dept"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("tasks/<int:pk>/", views.task_detail, name="task"),
    path("tasks/<int:pk>/sign/", views.sign, name="sign"),
    path("tasks/<int:pk>/return/", views.return_task, name="return"),
    path("tasks/<int:pk>/result/", views.report, name="result"),
    path("tasks/<int:pk>/extension/", views.extension, name="extension"),
    path("tasks/<int:pk>/suspension/", views.suspension, name="suspension"),
]
