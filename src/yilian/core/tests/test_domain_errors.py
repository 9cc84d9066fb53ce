"""``domain_errors`` on a Conflict: back to a page that shows the message, never to a POST-only action URL
(a GET there answers 405) and never to another site named by the Referer or a posted field."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import path
from django.views import View
from django.views.decorators.http import require_http_methods, require_POST

from yilian.core.exceptions import Conflict
from yilian.core.ui.http import _answers_get, domain_errors, return_to


def _conflict(request: HttpRequest, **kwargs: str) -> HttpResponse:
    raise Conflict("已被他人修改")


def _conflict_back_to_thing(request: HttpRequest, **kwargs: str) -> HttpResponse:
    raise Conflict("已被他人修改")


def page(request: HttpRequest, **kwargs: str) -> HttpResponse:
    return HttpResponse("page")


class PostOnlyView(View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse("done")


urlpatterns = [
    path("", page, name="home"),  # settings.LOGIN_REDIRECT_URL
    path("page/", page, name="page"),
    path("things/<str:public_id>/", page, name="thing"),
    path("things/<str:public_id>/act/", domain_errors(require_POST(_conflict)), name="act"),
    path(
        "things/<str:public_id>/freeze/",
        domain_errors(require_POST(return_to("thing")(_conflict_back_to_thing))),
        name="freeze",
    ),
    path("outer/", require_POST(domain_errors(_conflict)), name="outer"),
    path("form/", domain_errors(require_http_methods(["GET", "POST"])(_conflict)), name="form"),
    path("class/", PostOnlyView.as_view(), name="class"),
]

pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]


def _messages(response: HttpResponse) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_a_post_only_action_goes_back_to_the_referring_page_with_the_message():
    response = Client().post("/things/a1/act/", HTTP_REFERER="http://testserver/page/?tab=2")
    assert response.status_code == 302 and response["Location"] == "/page/?tab=2"
    assert _messages(response) == ["已被他人修改"]


def test_the_view_named_page_comes_first_and_is_reversed_with_the_views_arguments():
    response = Client().post("/things/a1/freeze/", HTTP_REFERER="http://testserver/page/")
    assert response["Location"] == "/things/a1/"


def test_a_posted_return_field_beats_the_referer():
    client = Client()
    response = client.post("/things/a1/act/", {"next": "/things/b2/"}, HTTP_REFERER="http://testserver/page/")
    assert response["Location"] == "/things/b2/"
    response = client.post("/things/a1/act/", {"return_to": "/page/?q=1"})
    assert response["Location"] == "/page/?q=1"


@pytest.mark.parametrize(
    "referer",
    [
        "https://evil.example/page/",
        "//evil.example/page/",
        "http://testserver.evil.example/page/",
        "javascript:alert(1)",
    ],
)
def test_a_foreign_referer_or_posted_page_is_not_followed(referer):
    response = Client().post("/things/a1/act/", {"next": referer}, HTTP_REFERER=referer)
    assert response.status_code == 302 and response["Location"] == "/"
    assert _messages(response) == ["已被他人修改"]


def test_never_back_to_a_post_only_url_not_even_the_referer():
    # A page rendered in answer to a POST (a form shown again with errors) leaves its POST-only URL as the
    # next Referer; going "back" there would be a 405.
    client = Client()
    for referer in (
        "http://testserver/things/a1/act/",
        "http://testserver/outer/",
        "http://testserver/class/",
    ):
        response = client.post("/things/a1/act/", HTTP_REFERER=referer)
        assert response["Location"] == "/", referer
    # Nothing else to go by: not the action itself (405), the home page.
    response = client.post("/outer/")
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get(response["Location"]).status_code != 405


def test_a_view_that_answers_get_still_comes_back_to_itself():
    response = Client().post("/form/?step=2")
    assert response["Location"] == "/form/?step=2"
    assert _messages(response) == ["已被他人修改"]


def test_which_views_answer_get():
    assert not _answers_get(require_POST(page))
    assert not _answers_get(domain_errors(require_POST(page)))
    assert _answers_get(require_http_methods(["GET", "POST"])(page))
    assert _answers_get(page)
    assert not _answers_get(PostOnlyView.as_view())
