"""Staff log-in and log-out (/accounts/). After logging in, each role lands in its own room."""

from django.contrib.auth import views as auth_views
from django.urls import NoReverseMatch, path, reverse

from civicgrid.org.models import Role

ROOM_OF_ROLE = {
    Role.DISPATCHER: "web:console:queue",
    Role.LEADER: "web:console:queue",
    Role.DEPARTMENT_HANDLER: "web:dept:inbox",
    Role.GRID_WORKER: "web:grid:index",
}


def room_for(user) -> str:
    """The page a member of staff starts from (administrators: the admin site)."""
    name = ROOM_OF_ROLE.get(user.role)
    if name is None:
        return reverse("admin:index")
    try:
        return reverse(name)
    except NoReverseMatch:  # a room not mounted (yet): the landing page then
        return reverse("web:home")


class StaffLoginView(auth_views.LoginView):
    template_name = "web/accounts/login.html"
    redirect_authenticated_user = True

    def get_default_redirect_url(self):
        return room_for(self.request.user)


app_name = "accounts"
urlpatterns = [
    path("login/", StaffLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(next_page="/accounts/login/"), name="logout"),
]
