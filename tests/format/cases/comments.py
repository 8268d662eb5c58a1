#!shebang
#comment
##double
#:sphinx
#!not first
x = 1 #trailing   
y = 2 #   spaced
#	tab
    #
z = 3  ###
