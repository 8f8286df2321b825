from django.urls import path

from . import graph_views, views

app_name = "maps"

urlpatterns = [
    path("services/<slug:slug>/map/", views.map_page, name="map"),
    path("services/<slug:slug>/map/edit/", views.map_edit, name="edit"),
    path("services/<slug:slug>/map/preview/", views.map_preview, name="preview"),
    path("services/<slug:slug>/map/v/<int:number>/", views.map_version, name="version"),
    path("services/<slug:slug>/map/v/<int:number>.owm", views.map_text, name="version_text"),
    path("services/<slug:slug>/map/v/<int:number>.svg", views.map_svg, name="version_svg"),
    path("services/<slug:slug>/map.owm", views.map_text, name="text"),
    path("services/<slug:slug>/map.svg", views.map_svg, name="svg"),
    # "dependencies/" is the network app's form to add one; the graph has its own address
    path("services/<slug:slug>/neighbourhood/", graph_views.neighbourhood, name="neighbourhood"),
    path("services/<slug:slug>/impact/", graph_views.impact, name="impact"),
    path("network/map/", graph_views.network_map, name="network"),
    path("network/map.owm", graph_views.network_map_text, name="network_text"),
    path("network/map.svg", graph_views.network_map_svg, name="network_svg"),
    path("network/cycles/", graph_views.cycles, name="cycles"),
]
