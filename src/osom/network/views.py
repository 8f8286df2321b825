from django.http import HttpResponse


def network_list(request):
    return HttpResponse("todo")
